/*
 * sf_seqpacket: the socket driver's reader thread reads the collector's SOCK_SEQPACKET stream through
 * this addon (src/services/drivers/socket/NativeIntakeWorker.ts, issue 15). A JavaScript callback per
 * packet (node-unix-socket) topped out at about 83,000 packets/s; here one call reads every packet the
 * socket holds into a caller's buffer, end to end, with their lengths beside them.
 *
 * Plain system calls on file descriptors, nothing kept between calls: the reader thread owns the
 * descriptors and blocks in poll(2) (it exists only to read). An eventfd wakes it from the main thread
 * (a stop, or the driver took packets). Context-aware (NAPI_MODULE_INIT), so it loads in worker threads.
 *
 *   listen(path, backlog) -> fd              non-blocking SOCK_SEQPACKET listener bound to path
 *   accept(fd) -> fd | -1                    a new connection (non-blocking), or -1 when none is waiting
 *   eventfd() -> fd; wake(fd); drain(fd)     the wake-up descriptor
 *   poll(fds, events, revents, count, ms) -> number of ready descriptors (Int32Arrays)
 *   recv(fd, bytes, lengths, at, maxPacket) -> RECV_* status (below)
 *   close(fd)
 *
 * Errors are thrown as Error(strerror(errno)) with `errno` and `syscall` properties.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <node_api.h>

/* recv's results. */
enum {
  RECV_AGAIN = 0,     /* the socket holds nothing more for now */
  RECV_FULL = 1,      /* the buffer or the lengths are full: hand them over and call again */
  RECV_END = 2,       /* a zero-length packet or EOF: the stream ended */
  RECV_TRUNCATED = 3  /* a packet of maxPacket bytes or more, dropped unread; its length is in at[2] */
};

#define MAX_POLL_FDS 64

#define CHECK(call)                                  \
  do {                                               \
    if ((call) != napi_ok) return throw_status(env); \
  } while (0)

static napi_value throw_status(napi_env env) {
  const napi_extended_error_info* info = NULL;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, info != NULL && info->error_message != NULL ? info->error_message : "N-API call failed");
  return NULL;
}

static napi_value throw_errno(napi_env env, const char* syscall, int err) {
  napi_value message, error, code, name;
  if (napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &message) != napi_ok ||
      napi_create_error(env, NULL, message, &error) != napi_ok ||
      napi_create_int32(env, err, &code) != napi_ok ||
      napi_set_named_property(env, error, "errno", code) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_set_named_property(env, error, "syscall", name) != napi_ok) {
    return throw_status(env);
  }
  napi_throw(env, error);
  return NULL;
}

static napi_value int_value(napi_env env, int64_t v) {
  napi_value result;
  if (napi_create_int64(env, v, &result) != napi_ok) return throw_status(env);
  return result;
}

/* The call's arguments, exactly `n` of them. */
static bool get_args(napi_env env, napi_callback_info info, size_t n, napi_value* argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < n) {
    napi_throw_type_error(env, NULL, "sf_seqpacket: missing arguments");
    return false;
  }
  return true;
}

static bool get_int(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) == napi_ok) return true;
  napi_throw_type_error(env, NULL, "sf_seqpacket: expected a number");
  return false;
}

/* A typed array's bytes, and its length in elements, if it is of `type`. */
static bool get_array(napi_env env, napi_value v, napi_typedarray_type type, void** data, size_t* length) {
  napi_typedarray_type actual;
  if (napi_get_typedarray_info(env, v, &actual, length, data, NULL, NULL) == napi_ok && actual == type) return true;
  napi_throw_type_error(env, NULL, "sf_seqpacket: wrong typed array");
  return false;
}

static napi_value js_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t length = 0;
  CHECK(napi_get_value_string_utf8(env, argv[0], NULL, 0, &length));
  if (length >= sizeof addr.sun_path) return throw_errno(env, "bind", ENAMETOOLONG);
  CHECK(napi_get_value_string_utf8(env, argv[0], addr.sun_path, sizeof addr.sun_path, &length));
  int32_t backlog;
  if (!get_int(env, argv[1], &backlog)) return NULL;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr*)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + 1)) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  if (listen(fd, backlog) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "listen", err);
  }
  return int_value(env, fd);
}

static napi_value js_accept(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  for (;;) {
    int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) return int_value(env, conn);
    if (errno == EINTR) continue;
    /* Nothing waiting, or the peer gave up before we got to it. */
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return int_value(env, -1);
    return throw_errno(env, "accept", errno);
  }
}

static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "eventfd", errno);
  return int_value(env, fd);
}

static napi_value js_wake(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  uint64_t one = 1;
  /* EAGAIN only when the counter is near 2^64: it is readable then anyway. */
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  return NULL;
}

static napi_value js_drain(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  uint64_t count;
  while (read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
  return NULL;
}

static napi_value js_poll(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  int32_t *fds, *events, *revents;
  size_t nfds, nevents, nrevents;
  int32_t count, timeout;
  if (!get_array(env, argv[0], napi_int32_array, (void**)&fds, &nfds) ||
      !get_array(env, argv[1], napi_int32_array, (void**)&events, &nevents) ||
      !get_array(env, argv[2], napi_int32_array, (void**)&revents, &nrevents) || !get_int(env, argv[3], &count) ||
      !get_int(env, argv[4], &timeout)) {
    return NULL;
  }
  if (count < 0 || count > MAX_POLL_FDS || (size_t)count > nfds || (size_t)count > nevents || (size_t)count > nrevents) {
    napi_throw_range_error(env, NULL, "sf_seqpacket: poll count out of range");
    return NULL;
  }
  struct pollfd set[MAX_POLL_FDS];
  for (int i = 0; i < count; i++) {
    set[i].fd = fds[i];
    set[i].events = (short)events[i];
    set[i].revents = 0;
  }
  int ready;
  do {
    ready = poll(set, (nfds_t)count, timeout);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return throw_errno(env, "poll", errno);
  for (int i = 0; i < count; i++) revents[i] = set[i].revents;
  return int_value(env, ready);
}

/*
 * Reads packets until the socket holds no more (or the stream ends, or the buffers are full), each at
 * bytes[at[0]...] with its length at lengths[at[1]]; at[0] and at[1] advance as packets arrive, so
 * what was read before an error is kept. Each packet gets maxPacket bytes of room; MSG_TRUNC gives its
 * real length, so a packet of maxPacket bytes or more is recognised (and dropped: RECV_TRUNCATED).
 */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv)) return NULL;
  int32_t fd, max_packet;
  uint8_t* bytes;
  uint32_t* lengths;
  int32_t* at;
  size_t nbytes, nlengths, nat;
  if (!get_int(env, argv[0], &fd) || !get_array(env, argv[1], napi_uint8_array, (void**)&bytes, &nbytes) ||
      !get_array(env, argv[2], napi_uint32_array, (void**)&lengths, &nlengths) ||
      !get_array(env, argv[3], napi_int32_array, (void**)&at, &nat) || !get_int(env, argv[4], &max_packet)) {
    return NULL;
  }
  if (nat < 3 || max_packet <= 0 || at[0] < 0 || at[1] < 0) {
    napi_throw_range_error(env, NULL, "sf_seqpacket: recv arguments out of range");
    return NULL;
  }
  size_t used = (size_t)at[0];
  size_t packets = (size_t)at[1];
  for (;;) {
    if (packets >= nlengths || used + (size_t)max_packet > nbytes) return int_value(env, RECV_FULL);
    ssize_t n = recv(fd, bytes + used, (size_t)max_packet, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return int_value(env, RECV_AGAIN);
      return throw_errno(env, "recv", errno);
    }
    if (n == 0) return int_value(env, RECV_END);
    if (n >= max_packet) {
      at[2] = n > INT32_MAX ? INT32_MAX : (int32_t)n;
      return int_value(env, RECV_TRUNCATED);
    }
    lengths[packets++] = (uint32_t)n;
    used += (size_t)n;
    at[0] = (int32_t)used;
    at[1] = (int32_t)packets;
  }
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!get_args(env, info, 1, argv) || !get_int(env, argv[0], &fd)) return NULL;
  if (fd >= 0) close(fd);
  return NULL;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"accept", NULL, js_accept, NULL, NULL, NULL, napi_enumerable, NULL},
      {"eventfd", NULL, js_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wake", NULL, js_wake, NULL, NULL, NULL, napi_enumerable, NULL},
      {"drain", NULL, js_drain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"poll", NULL, js_poll, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recv", NULL, js_recv, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
