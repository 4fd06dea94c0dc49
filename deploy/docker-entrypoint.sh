#!/bin/sh
# Entry point of the container image: the reference image's command line, from its environment:
#
#   sfprocessor -log=$LOG_LEVEL -driver=$DRIVER -driverdir=$DRIVER_DIR -plugdir=$PLUGIN_DIR \
#               -config=$CONFIG_PATH [ARGS...] $INPUT_PATH
#
# An empty or unset variable leaves its flag (or the path) out. ARGS are the arguments given after the
# image name (`docker run IMAGE -test`): flags, placed before the input path because flag parsing stops
# at the path. An argument list that does not start with a flag is run as a command instead
# (`docker run -it IMAGE sh`). `exec` makes sfprocessor the container's main process, so `docker stop`'s
# SIGTERM reaches it: the pipeline drains and exits 0.
set -eu
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec "$@"
fi
exec sfprocessor \
  ${LOG_LEVEL:+"-log=$LOG_LEVEL"} \
  ${DRIVER:+"-driver=$DRIVER"} \
  ${DRIVER_DIR:+"-driverdir=$DRIVER_DIR"} \
  ${PLUGIN_DIR:+"-plugdir=$PLUGIN_DIR"} \
  ${CONFIG_PATH:+"-config=$CONFIG_PATH"} \
  "$@" \
  ${INPUT_PATH:+"$INPUT_PATH"}
