# The socket driver's native reader (native/seqpacket.c), built at install by native/build.js, which
# tolerates a failed build: the driver then reads with node-unix-socket (docs/socket.md).
{
  "targets": [
    {
      "target_name": "sf_seqpacket",
      "sources": ["native/seqpacket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
