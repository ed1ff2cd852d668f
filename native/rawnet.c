/*
 * rawnet: the socket features Node lacks, for the metallb-pepr node agent.
 *
 *   openPacket(ifname, ethertype, onFrame[, bpf]) -> handle   AF_PACKET socket on one interface
 *   sendPacket(handle, frame) -> bytes sent
 *   closePacket(handle)
 *   packetMembership(handle, mac, join)                      join/leave a link-layer multicast group
 *   interfaceInfo(ifname) -> { index, mac, type }
 *   md5Connect(ip, port, key[, sourceIp[, ttl]]) -> fd       non-blocking TCP with TCP_MD5SIG
 *   md5Listen(ip, port, peers) -> fd                         listening TCP with TCP_MD5SIG keys
 *   setMd5(fd, peerIp, key)                                  add, change ("" removes) a key
 *   udpSocket(ip, port[, ttl[, bpf]]) -> fd                  bound UDP socket, TTL set, socket filter (BFD GTSM)
 *   attachFilter(fd, bpf)                                    replace a socket's filter
 *
 * Plain C against Node-API 8 and libuv; Linux only. Errors are thrown as JS Errors whose
 * `code` is the errno name (EPERM, ...), with `errno` and `syscall` set.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define FRAME_MAX 65536 /* larger than any frame on a 9000-byte MTU link */
#define DRAIN_MAX 256   /* frames handled per wake-up before yielding to the event loop */
#define IP_TEXT_MAX 128 /* an IPv6 address with a %zone fits */

#define HINT_CAP_NET_RAW "opening a raw packet socket needs CAP_NET_RAW (run the agent with NET_RAW)"

/* --------------------------------------------------------------------------------------
 * Errors */

/* Throws an Error for `err` (an errno value). Always returns NULL for `return throw_errno(...)`. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *context, const char *hint) {
  char text[128];
  char msg[640];
  const char *code = uv_err_name(uv_translate_sys_error(err));
  const char *desc = strerror_r(err, text, sizeof text);
  snprintf(msg, sizeof msg, "%s: %s: %s (%s)%s%s", context, syscall, desc, code, hint ? "; " : "", hint ? hint : "");

  napi_value jmsg, jcode, jerr, jnum, jsys;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode) != napi_ok ||
      napi_create_error(env, jcode, jmsg, &jerr) != napi_ok) {
    napi_throw_error(env, code, msg);
    return NULL;
  }
  if (napi_create_int32(env, err, &jnum) == napi_ok) napi_set_named_property(env, jerr, "errno", jnum);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &jsys) == napi_ok) napi_set_named_property(env, jerr, "syscall", jsys);
  napi_throw(env, jerr);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* Throws a generic error for a failed Node-API call unless one is already pending. */
static napi_value throw_napi(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return NULL;
  const napi_extended_error_info *info = NULL;
  char msg[256];
  napi_get_last_error_info(env, &info);
  snprintf(msg, sizeof msg, "rawnet: %s failed: %s", what, info && info->error_message ? info->error_message : "unknown Node-API error");
  napi_throw_error(env, NULL, msg);
  return NULL;
}

#define NAPI_OK(call) ((call) == napi_ok)

/* --------------------------------------------------------------------------------------
 * Argument helpers; each returns 0 on success, or throws and returns -1. */

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (!NAPI_OK(napi_typeof(env, v, &t))) return 0;
  return t == napi_undefined || t == napi_null;
}

static int get_string(napi_env env, napi_value v, char *out, size_t size, size_t *len, const char *name) {
  napi_valuetype t;
  char msg[128];
  if (!NAPI_OK(napi_typeof(env, v, &t)) || t != napi_string) {
    snprintf(msg, sizeof msg, "%s must be a string", name);
    throw_type(env, msg);
    return -1;
  }
  size_t need = 0;
  if (!NAPI_OK(napi_get_value_string_utf8(env, v, NULL, 0, &need))) return throw_napi(env, "reading a string"), -1;
  if (need >= size) {
    snprintf(msg, sizeof msg, "%s is too long (%zu bytes, at most %zu)", name, need, size - 1);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return -1;
  }
  size_t got = 0;
  if (!NAPI_OK(napi_get_value_string_utf8(env, v, out, size, &got))) return throw_napi(env, "reading a string"), -1;
  if (len) *len = got;
  return 0;
}

static int get_int(napi_env env, napi_value v, int64_t min, int64_t max, int64_t *out, const char *name) {
  napi_valuetype t;
  double d;
  char msg[128];
  if (!NAPI_OK(napi_typeof(env, v, &t)) || t != napi_number || !NAPI_OK(napi_get_value_double(env, v, &d)) || d != (double)(int64_t)d ||
      d < (double)min || d > (double)max) {
    snprintf(msg, sizeof msg, "%s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
    return -1;
  }
  *out = (int64_t)d;
  return 0;
}

/* Bytes of a Buffer or Uint8Array. */
static int get_bytes(napi_env env, napi_value v, void **data, size_t *len, const char *name) {
  bool is_typed = false;
  napi_typedarray_type type;
  char msg[128];
  if (NAPI_OK(napi_is_typedarray(env, v, &is_typed)) && is_typed &&
      NAPI_OK(napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL)) && type == napi_uint8_array) {
    return 0;
  }
  snprintf(msg, sizeof msg, "%s must be a Buffer or Uint8Array", name);
  throw_type(env, msg);
  return -1;
}

/* Parses "a.b.c.d", "x::y" or "fe80::1%eth0" with `port` into `ss`. Returns 0, or -1 with errno. */
static int parse_addr(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len) {
  char host[IP_TEXT_MAX];
  memset(ss, 0, sizeof *ss);
  snprintf(host, sizeof host, "%s", text);
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    *len = sizeof *v4;
    return 0;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  char *zone = strchr(host, '%');
  if (zone) *zone++ = '\0';
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    if (zone) {
      unsigned idx = if_nametoindex(zone);
      if (idx == 0) return -1; /* errno from if_nametoindex (ENODEV) */
      v6->sin6_scope_id = idx;
    }
    *len = sizeof *v6;
    return 0;
  }
  errno = EINVAL;
  return -1;
}

static int get_addr(napi_env env, napi_value v, int port, struct sockaddr_storage *ss, socklen_t *len, const char *name) {
  char text[IP_TEXT_MAX];
  char msg[IP_TEXT_MAX + 64];
  if (get_string(env, v, text, sizeof text, NULL, name) < 0) return -1;
  if (parse_addr(text, port, ss, len) < 0) {
    if (errno == EINVAL) {
      snprintf(msg, sizeof msg, "%s is not an IP address: \"%s\"", name, text);
      napi_throw_type_error(env, "ERR_INVALID_IP_ADDRESS", msg);
    } else {
      snprintf(msg, sizeof msg, "%s \"%s\"", name, text);
      throw_errno(env, errno, "if_nametoindex", msg, "unknown zone (interface) after %");
    }
    return -1;
  }
  return 0;
}

/* --------------------------------------------------------------------------------------
 * Packet sockets */

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref self;     /* keeps the handle object alive while the socket is open */
  napi_ref callback; /* onFrame */
  napi_async_context async;
  int fd;
  int ifindex;
  int open;          /* until closePacket (or teardown) */
  int poll_started;  /* uv_poll_init_socket succeeded: uv_close is needed */
  int poll_closed;   /* the uv_close callback ran, or the poll was never initialised */
  int finalized;     /* the JS handle was garbage collected */
  int skip_outgoing; /* the kernel lacks PACKET_IGNORE_OUTGOING: filter by packet type */
  int in_callback;   /* inside onFrame: closePacket must not destroy the async context under it */
  int release_pending;
  unsigned char *buf;
  char ifname[IF_NAMESIZE];
} packet_t;

static const napi_type_tag PACKET_TAG = {0x6d6c62706570722dULL, 0x7261776e65742d31ULL};

static void packet_free(packet_t *p) {
  free(p->buf);
  free(p);
}

static void on_poll_closed(uv_handle_t *h) {
  packet_t *p = (packet_t *)h->data;
  if (p->fd >= 0) close(p->fd);
  p->fd = -1;
  p->poll_closed = 1;
  if (p->finalized) packet_free(p);
}

/* Stops polling and closes the socket (the fd closes once libuv has let go of it). */
static void packet_shutdown(packet_t *p) {
  if (!p->open) return;
  p->open = 0;
  if (p->poll_started) {
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *)&p->poll, on_poll_closed);
  } else {
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    p->poll_closed = 1;
  }
}

/* Drops the JS-side references; main thread only. */
static void packet_release_js(napi_env env, packet_t *p) {
  if (p->in_callback) {
    p->release_pending = 1; /* on_readable finishes the job after the callback returns */
    return;
  }
  if (p->callback) napi_delete_reference(env, p->callback);
  p->callback = NULL;
  if (p->async) napi_async_destroy(env, p->async);
  p->async = NULL;
  if (p->self) napi_delete_reference(env, p->self);
  p->self = NULL;
}

static void packet_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  packet_t *p = (packet_t *)data;
  /* Normally closed already; at environment teardown the socket may still be open. */
  packet_shutdown(p);
  p->finalized = 1;
  if (p->poll_closed) packet_free(p);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  packet_t *p = (packet_t *)h->data;
  if (!p->open) return;
  if (status < 0) {
    /* libuv stops the poll on POLLERR, e.g. ENETDOWN when the link goes down. Clear the
     * socket error and keep listening: the socket works again once the link is back. */
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    uv_poll_start(&p->poll, UV_READABLE, on_readable);
    return;
  }

  napi_env env = p->env;
  napi_handle_scope scope;
  if (!NAPI_OK(napi_open_handle_scope(env, &scope))) return;
  napi_value cb, recv;
  /* napi_make_callback wants an object as `this`: the global object, as for a plain call. */
  if (!NAPI_OK(napi_get_reference_value(env, p->callback, &cb)) || cb == NULL || !NAPI_OK(napi_get_global(env, &recv))) {
    napi_close_handle_scope(env, scope);
    return;
  }
  for (int i = 0; i < DRAIN_MAX && p->open; i++) {
    struct sockaddr_ll from;
    socklen_t fromlen = sizeof from;
    ssize_t n = recvfrom(p->fd, p->buf, FRAME_MAX, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
    if (n < 0) {
      if (errno == EINTR) continue;
      break; /* EAGAIN: drained; anything else is reported through POLLERR */
    }
    if (n > FRAME_MAX) continue; /* truncated: not a frame we could answer */
    if (p->skip_outgoing && from.sll_pkttype == PACKET_OUTGOING) continue;

    napi_handle_scope inner;
    if (!NAPI_OK(napi_open_handle_scope(env, &inner))) break;
    napi_value frame, result;
    if (NAPI_OK(napi_create_buffer_copy(env, (size_t)n, p->buf, NULL, &frame))) {
      p->in_callback = 1;
      napi_status st = napi_make_callback(env, p->async, recv, cb, 1, &frame, &result);
      p->in_callback = 0;
      bool pending = false;
      if (st != napi_ok && NAPI_OK(napi_is_exception_pending(env, &pending)) && pending) {
        /* Surface the callback's exception as an uncaught exception, as an EventEmitter would. */
        napi_value exc;
        if (NAPI_OK(napi_get_and_clear_last_exception(env, &exc))) napi_fatal_exception(env, exc);
        napi_close_handle_scope(env, inner);
        break;
      }
    }
    napi_close_handle_scope(env, inner);
  }
  if (p->release_pending) {
    p->release_pending = 0;
    packet_release_js(env, p);
  }
  napi_close_handle_scope(env, scope);
}

/* Reads an optional classic BPF program: an array of [code, jt, jf, k]. */
static int get_bpf(napi_env env, napi_value v, struct sock_filter **out, unsigned short *count) {
  bool is_array = false;
  uint32_t n = 0;
  *out = NULL;
  *count = 0;
  if (!NAPI_OK(napi_is_array(env, v, &is_array)) || !is_array) return throw_type(env, "filter must be an array of [code, jt, jf, k]"), -1;
  if (!NAPI_OK(napi_get_array_length(env, v, &n))) return throw_napi(env, "reading the filter"), -1;
  if (n == 0 || n > BPF_MAXINSNS) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "filter must have 1 to 4096 instructions");
    return -1;
  }
  struct sock_filter *prog = calloc(n, sizeof *prog);
  if (!prog) return throw_errno(env, ENOMEM, "calloc", "openPacket", NULL), -1;
  for (uint32_t i = 0; i < n; i++) {
    napi_value insn, field;
    bool insn_is_array = false;
    uint32_t insn_len = 0;
    int64_t f[4];
    if (!NAPI_OK(napi_get_element(env, v, i, &insn)) || !NAPI_OK(napi_is_array(env, insn, &insn_is_array)) || !insn_is_array ||
        !NAPI_OK(napi_get_array_length(env, insn, &insn_len)) || insn_len != 4) {
      free(prog);
      return throw_type(env, "each filter instruction must be [code, jt, jf, k]"), -1;
    }
    static const int64_t max[4] = {0xffff, 0xff, 0xff, 0xffffffffLL};
    for (uint32_t j = 0; j < 4; j++) {
      if (!NAPI_OK(napi_get_element(env, insn, j, &field)) || get_int(env, field, 0, max[j], &f[j], "filter field") < 0) {
        free(prog);
        return -1;
      }
    }
    prog[i].code = (uint16_t)f[0];
    prog[i].jt = (uint8_t)f[1];
    prog[i].jf = (uint8_t)f[2];
    prog[i].k = (uint32_t)f[3];
  }
  *out = prog;
  *count = (unsigned short)n;
  return 0;
}

static napi_value open_packet(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char ifname[IF_NAMESIZE];
  char context[64];
  int64_t ethertype;
  napi_valuetype cbtype;
  struct sock_filter *bpf = NULL;
  unsigned short bpf_len = 0;

  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 3) return throw_type(env, "openPacket(ifname, ethertype, onFrame[, filter])");
  if (get_string(env, argv[0], ifname, sizeof ifname, NULL, "ifname") < 0) return NULL;
  if (get_int(env, argv[1], 1, 0xffff, &ethertype, "ethertype") < 0) return NULL;
  if (!NAPI_OK(napi_typeof(env, argv[2], &cbtype)) || cbtype != napi_function) return throw_type(env, "onFrame must be a function");
  if (argc > 3 && !is_nullish(env, argv[3]) && get_bpf(env, argv[3], &bpf, &bpf_len) < 0) return NULL;
  snprintf(context, sizeof context, "openPacket(%s)", ifname);

  unsigned ifindex = if_nametoindex(ifname);
  if (ifindex == 0) {
    int err = errno;
    free(bpf);
    return throw_errno(env, err, "if_nametoindex", context, "no such network interface in this network namespace");
  }

  /* Protocol 0: the socket receives nothing until bind() names the EtherType, so no frame
   * from another interface or protocol can slip in before the filter is attached. */
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    free(bpf);
    return throw_errno(env, err, "socket(AF_PACKET)", context, (err == EPERM || err == EACCES) ? HINT_CAP_NET_RAW : NULL);
  }
  int skip_outgoing = 0;
  int one = 1;
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0) {
    if (errno != ENOPROTOOPT && errno != EINVAL) {
      int err = errno;
      close(fd);
      free(bpf);
      return throw_errno(env, err, "setsockopt(PACKET_IGNORE_OUTGOING)", context, NULL);
    }
    skip_outgoing = 1; /* kernels before 4.20: drop PACKET_OUTGOING frames ourselves */
  }
  if (bpf) {
    struct sock_fprog fprog = {.len = bpf_len, .filter = bpf};
    int rc = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    int err = errno;
    free(bpf);
    if (rc < 0) {
      close(fd);
      return throw_errno(env, err, "setsockopt(SO_ATTACH_FILTER)", context, "the BPF filter was rejected");
    }
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons((uint16_t)ethertype);
  sll.sll_ifindex = (int)ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "bind(AF_PACKET)", context, NULL);
  }

  packet_t *p = calloc(1, sizeof *p);
  unsigned char *buf = malloc(FRAME_MAX);
  if (!p || !buf) {
    free(p);
    free(buf);
    close(fd);
    return throw_errno(env, ENOMEM, "malloc", context, NULL);
  }
  p->env = env;
  p->fd = fd;
  p->ifindex = (int)ifindex;
  p->buf = buf;
  p->skip_outgoing = skip_outgoing;
  p->poll_closed = 1; /* nothing for libuv to close yet */
  snprintf(p->ifname, sizeof p->ifname, "%s", ifname);

  napi_value resource_name, handle;
  if (!NAPI_OK(napi_create_reference(env, argv[2], 1, &p->callback)) ||
      !NAPI_OK(napi_create_string_utf8(env, "rawnet.PacketSocket", NAPI_AUTO_LENGTH, &resource_name)) ||
      !NAPI_OK(napi_async_init(env, NULL, resource_name, &p->async)) ||
      !NAPI_OK(napi_create_external(env, p, packet_finalize, NULL, &handle))) {
    throw_napi(env, "openPacket setup");
    packet_release_js(env, p);
    close(fd);
    packet_free(p);
    return NULL;
  }
  /* From here on the finalizer owns `p`; failures only shut the socket down. */
  p->open = 1;
  if (!NAPI_OK(napi_type_tag_object(env, handle, &PACKET_TAG)) || !NAPI_OK(napi_create_reference(env, handle, 1, &p->self))) {
    throw_napi(env, "openPacket setup");
    packet_shutdown(p);
    packet_release_js(env, p);
    return NULL;
  }

  uv_loop_t *loop = NULL;
  if (!NAPI_OK(napi_get_uv_event_loop(env, &loop))) {
    throw_napi(env, "napi_get_uv_event_loop");
    packet_shutdown(p);
    packet_release_js(env, p);
    return NULL;
  }
  int rc = uv_poll_init_socket(loop, &p->poll, fd);
  if (rc < 0) {
    packet_shutdown(p);
    packet_release_js(env, p);
    return throw_errno(env, -rc, "uv_poll_init_socket", context, NULL);
  }
  p->poll.data = p;
  p->poll_started = 1;
  p->poll_closed = 0;
  rc = uv_poll_start(&p->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    packet_shutdown(p);
    packet_release_js(env, p);
    return throw_errno(env, -rc, "uv_poll_start", context, NULL);
  }
  return handle;
}

static packet_t *get_packet(napi_env env, napi_value v) {
  bool ok = false;
  void *data = NULL;
  napi_valuetype t;
  if (!NAPI_OK(napi_typeof(env, v, &t)) || t != napi_external || !NAPI_OK(napi_check_object_type_tag(env, v, &PACKET_TAG, &ok)) || !ok ||
      !NAPI_OK(napi_get_value_external(env, v, &data)) || data == NULL) {
    throw_type(env, "handle must be a value returned by openPacket");
    return NULL;
  }
  return (packet_t *)data;
}

static napi_value send_packet(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  size_t len = 0;
  char context[64];
  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 2) return throw_type(env, "sendPacket(handle, frame)");
  packet_t *p = get_packet(env, argv[0]);
  if (!p) return NULL;
  if (get_bytes(env, argv[1], &data, &len, "frame") < 0) return NULL;
  snprintf(context, sizeof context, "sendPacket(%s)", p->ifname);
  if (!p->open) return throw_errno(env, EBADF, "send", context, "the packet socket is closed");
  if (len < 14) return throw_errno(env, EINVAL, "send", context, "a frame needs at least the 14-byte Ethernet header");
  ssize_t n;
  do {
    n = send(p->fd, data, len, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    const char *hint = err == ENETDOWN ? "the interface is down" : err == EMSGSIZE ? "the frame is larger than the interface MTU" : NULL;
    return throw_errno(env, err, "send", context, hint);
  }
  napi_value result;
  if (!NAPI_OK(napi_create_int64(env, (int64_t)n, &result))) return throw_napi(env, "napi_create_int64");
  return result;
}

static napi_value close_packet(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 1) return throw_type(env, "closePacket(handle)");
  packet_t *p = get_packet(env, argv[0]);
  if (!p) return NULL;
  packet_shutdown(p); /* idempotent */
  packet_release_js(env, p);
  return NULL;
}

/* Joins (or leaves) a link-layer multicast group on the socket's interface, so that a NIC
 * with a multicast filter delivers e.g. the solicited-node MAC 33:33:ff:xx:xx:xx. The kernel
 * counts memberships per socket and drops them when the socket closes. */
static napi_value packet_membership(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *mac = NULL;
  size_t maclen = 0;
  bool join = false;
  char context[64];
  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 3) return throw_type(env, "packetMembership(handle, mac, join)");
  packet_t *p = get_packet(env, argv[0]);
  if (!p) return NULL;
  if (get_bytes(env, argv[1], &mac, &maclen, "mac") < 0) return NULL;
  if (maclen != 6) return throw_type(env, "mac must have 6 bytes");
  if (!NAPI_OK(napi_get_value_bool(env, argv[2], &join))) return throw_type(env, "join must be a boolean");
  snprintf(context, sizeof context, "packetMembership(%s)", p->ifname);
  if (!p->open) return throw_errno(env, EBADF, "setsockopt", context, "the packet socket is closed");
  struct packet_mreq mreq;
  memset(&mreq, 0, sizeof mreq);
  mreq.mr_ifindex = p->ifindex;
  mreq.mr_type = PACKET_MR_MULTICAST;
  mreq.mr_alen = 6;
  memcpy(mreq.mr_address, mac, 6);
  int opt = join ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
  if (setsockopt(p->fd, SOL_PACKET, opt, &mreq, sizeof mreq) < 0) {
    return throw_errno(env, errno, join ? "setsockopt(PACKET_ADD_MEMBERSHIP)" : "setsockopt(PACKET_DROP_MEMBERSHIP)", context,
                       join ? NULL : "not a member of that group");
  }
  return NULL;
}

static napi_value interface_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char ifname[IF_NAMESIZE];
  char context[64];
  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 1) return throw_type(env, "interfaceInfo(ifname)");
  if (get_string(env, argv[0], ifname, sizeof ifname, NULL, "ifname") < 0) return NULL;
  snprintf(context, sizeof context, "interfaceInfo(%s)", ifname);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket(AF_INET)", context, NULL);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, strlen(ifname)); /* fits: get_string bounded it below IF_NAMESIZE */
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(SIOCGIFINDEX)", context, err == ENODEV ? "no such network interface in this network namespace" : NULL);
  }
  int index = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, err, "ioctl(SIOCGIFHWADDR)", context, NULL);
  }
  close(fd);

  napi_value result, jindex, jmac, jtype;
  if (!NAPI_OK(napi_create_object(env, &result)) || !NAPI_OK(napi_create_int32(env, index, &jindex)) ||
      !NAPI_OK(napi_create_buffer_copy(env, 6, ifr.ifr_hwaddr.sa_data, NULL, &jmac)) ||
      !NAPI_OK(napi_create_int32(env, ifr.ifr_hwaddr.sa_family, &jtype)) || !NAPI_OK(napi_set_named_property(env, result, "index", jindex)) ||
      !NAPI_OK(napi_set_named_property(env, result, "mac", jmac)) || !NAPI_OK(napi_set_named_property(env, result, "type", jtype))) {
    return throw_napi(env, "interfaceInfo result");
  }
  return result;
}

/* --------------------------------------------------------------------------------------
 * TCP MD5 signatures (RFC 2385) */

#define HINT_NO_MD5 "this kernel has no TCP MD5 signature support (CONFIG_TCP_MD5SIG)"

/* Installs (keylen > 0) or removes (keylen == 0) the key for `peer` on a socket of
 * `sock_family`. IPv4 peers of an IPv6 socket are given as v4-mapped addresses, which the
 * kernel stores as IPv4 keys. Returns 0, or -1 with errno. */
static int set_md5_key(int fd, int sock_family, const struct sockaddr_storage *peer, const char *key, size_t keylen) {
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  if (keylen > TCP_MD5SIG_MAXKEYLEN) {
    errno = EINVAL;
    return -1;
  }
  if (sock_family == AF_INET6 && peer->ss_family == AF_INET) {
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)peer;
    struct sockaddr_in6 *m = (struct sockaddr_in6 *)&sig.tcpm_addr;
    m->sin6_family = AF_INET6;
    m->sin6_addr.s6_addr[10] = 0xff;
    m->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&m->sin6_addr.s6_addr[12], &v4->sin_addr, 4);
  } else if (sock_family == peer->ss_family) {
    memcpy(&sig.tcpm_addr, peer, peer->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
  } else {
    errno = EAFNOSUPPORT;
    return -1;
  }
  sig.tcpm_keylen = (uint16_t)keylen;
  memcpy(sig.tcpm_key, key, keylen);
  return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig);
}

static const char *md5_hint(int err) {
  if (err == ENOPROTOOPT) return HINT_NO_MD5;
  if (err == EAFNOSUPPORT) return "the peer's address family differs from the socket's";
  if (err == EINVAL) return "keys are at most 80 bytes";
  return NULL;
}

#define KEY_BUF (TCP_MD5SIG_MAXKEYLEN + 1)

/* Hands a new socket to JavaScript as a number; on failure the socket is closed, never leaked. */
static napi_value fd_to_js(napi_env env, int fd) {
  napi_value result;
  if (!NAPI_OK(napi_create_int32(env, fd, &result))) {
    close(fd);
    return throw_napi(env, "napi_create_int32");
  }
  return result;
}

static napi_value md5_connect(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  struct sockaddr_storage peer, src;
  socklen_t peer_len = 0, src_len = 0;
  int64_t port, ttl = 0;
  char key[KEY_BUF];
  size_t keylen = 0;
  char context[IP_TEXT_MAX + 32];
  int have_src = 0;

  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 3) return throw_type(env, "md5Connect(ip, port, key[, sourceIp[, ttl]])");
  if (get_int(env, argv[1], 1, 65535, &port, "port") < 0) return NULL;
  if (get_addr(env, argv[0], (int)port, &peer, &peer_len, "ip") < 0) return NULL;
  if (get_string(env, argv[2], key, sizeof key, &keylen, "key") < 0) return NULL;
  if (argc > 3 && !is_nullish(env, argv[3])) {
    if (get_addr(env, argv[3], 0, &src, &src_len, "sourceIp") < 0) return NULL;
    if (src.ss_family != peer.ss_family) return throw_type(env, "sourceIp must be of the same address family as ip");
    have_src = 1;
  }
  if (argc > 4 && !is_nullish(env, argv[4]) && get_int(env, argv[4], 1, 255, &ttl, "ttl") < 0) return NULL;

  char peer_text[INET6_ADDRSTRLEN] = "?";
  inet_ntop(peer.ss_family, peer.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&peer)->sin_addr : (void *)&((struct sockaddr_in6 *)&peer)->sin6_addr,
            peer_text, sizeof peer_text);
  snprintf(context, sizeof context, "md5Connect(%s, %lld)", peer_text, (long long)port);

  int fd = socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, errno, "socket", context, NULL);
  const char *syscall = NULL;
  const char *hint = NULL;
  if (have_src && bind(fd, (struct sockaddr *)&src, src_len) < 0) {
    syscall = "bind";
    hint = errno == EADDRNOTAVAIL ? "sourceIp is not an address of this node (in this network namespace)" : NULL;
    goto fail;
  }
  if (ttl > 0) {
    int v = (int)ttl;
    int rc = peer.ss_family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v) : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v);
    if (rc < 0) {
      syscall = peer.ss_family == AF_INET ? "setsockopt(IP_TTL)" : "setsockopt(IPV6_UNICAST_HOPS)";
      goto fail;
    }
  }
  if (keylen > 0 && set_md5_key(fd, peer.ss_family, &peer, key, keylen) < 0) {
    syscall = "setsockopt(TCP_MD5SIG)";
    hint = md5_hint(errno);
    goto fail;
  }
  if (connect(fd, (struct sockaddr *)&peer, peer_len) < 0 && errno != EINPROGRESS && errno != EINTR) {
    syscall = "connect";
    goto fail;
  }
  return fd_to_js(env, fd);

fail : {
  int err = errno;
  close(fd);
  return throw_errno(env, err, syscall, context, hint);
}
}

static napi_value md5_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  struct sockaddr_storage local;
  socklen_t local_len = 0;
  int64_t port;
  bool is_array = false;
  uint32_t npeers = 0;
  char context[IP_TEXT_MAX + 32];
  char ip_text[IP_TEXT_MAX];

  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 3) return throw_type(env, "md5Listen(ip, port, peers)");
  if (get_int(env, argv[1], 0, 65535, &port, "port") < 0) return NULL;
  if (get_addr(env, argv[0], (int)port, &local, &local_len, "ip") < 0) return NULL;
  if (!NAPI_OK(napi_is_array(env, argv[2], &is_array)) || !is_array) return throw_type(env, "peers must be an array of { ip, key }");
  if (!NAPI_OK(napi_get_array_length(env, argv[2], &npeers))) return throw_napi(env, "napi_get_array_length");
  if (get_string(env, argv[0], ip_text, sizeof ip_text, NULL, "ip") < 0) return NULL;
  snprintf(context, sizeof context, "md5Listen(%s, %lld)", ip_text, (long long)port);

  int fd = socket(local.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) return throw_errno(env, errno, "socket", context, NULL);
  const char *syscall = NULL;
  const char *hint = NULL;
  int one = 1, zero = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    syscall = "setsockopt(SO_REUSEADDR)";
    goto fail;
  }
  if (local.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&local)->sin6_addr) &&
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0) {
    syscall = "setsockopt(IPV6_V6ONLY)"; /* "::" listens for IPv4 peers too */
    goto fail;
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) < 0) {
    syscall = "bind";
    hint = errno == EADDRINUSE      ? "the port is already in use"
           : errno == EACCES        ? "ports below 1024 need CAP_NET_BIND_SERVICE"
           : errno == EADDRNOTAVAIL ? "ip is not an address of this node (in this network namespace)"
                                    : NULL;
    goto fail;
  }
  for (uint32_t i = 0; i < npeers; i++) {
    napi_value entry, jip, jkey;
    napi_valuetype t;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    char key[KEY_BUF];
    size_t keylen = 0;
    if (!NAPI_OK(napi_get_element(env, argv[2], i, &entry)) || !NAPI_OK(napi_typeof(env, entry, &t)) || t != napi_object ||
        !NAPI_OK(napi_get_named_property(env, entry, "ip", &jip)) || !NAPI_OK(napi_get_named_property(env, entry, "key", &jkey))) {
      close(fd);
      return throw_type(env, "peers must be an array of { ip, key }");
    }
    if (get_addr(env, jip, 0, &peer, &peer_len, "peers[].ip") < 0 || get_string(env, jkey, key, sizeof key, &keylen, "peers[].key") < 0) {
      close(fd);
      return NULL;
    }
    if (keylen > 0 && set_md5_key(fd, local.ss_family, &peer, key, keylen) < 0) {
      syscall = "setsockopt(TCP_MD5SIG)";
      hint = md5_hint(errno);
      goto fail;
    }
  }
  if (listen(fd, 511) < 0) {
    syscall = "listen";
    goto fail;
  }
  return fd_to_js(env, fd);

fail : {
  int err = errno;
  close(fd);
  return throw_errno(env, err, syscall, context, hint);
}
}

static napi_value set_md5(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd;
  struct sockaddr_storage peer, local;
  socklen_t peer_len = 0, local_len = sizeof local;
  char key[KEY_BUF];
  size_t keylen = 0;
  char context[64];

  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 3) return throw_type(env, "setMd5(fd, peerIp, key)");
  if (get_int(env, argv[0], 0, INT32_MAX, &fd, "fd") < 0) return NULL;
  if (get_addr(env, argv[1], 0, &peer, &peer_len, "peerIp") < 0) return NULL;
  if (get_string(env, argv[2], key, sizeof key, &keylen, "key") < 0) return NULL;
  snprintf(context, sizeof context, "setMd5(fd %lld)", (long long)fd);

  memset(&local, 0, sizeof local);
  if (getsockname((int)fd, (struct sockaddr *)&local, &local_len) < 0) return throw_errno(env, errno, "getsockname", context, NULL);
  if (set_md5_key((int)fd, local.ss_family, &peer, key, keylen) < 0) {
    if (keylen == 0 && errno == ENOENT) return NULL; /* removing a key that is not there */
    return throw_errno(env, errno, "setsockopt(TCP_MD5SIG)", context, md5_hint(errno));
  }
  return NULL;
}

/* -------------------------------------------------------------------------------------- */
/* UDP sockets for BFD (RFC 5881/5883): Node's dgram can neither set a socket filter nor read
 * the received TTL, so the socket is made here (bound, TTL set, classic BPF filter attached:
 * the filter can read the IP header through SKF_NET_OFF and drop packets whose TTL or hop
 * limit is wrong, in the kernel) and handed to dgram with bind({ fd }). */

static napi_value udp_socket(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  struct sockaddr_storage local;
  socklen_t local_len = 0;
  int64_t port, ttl = 0;
  struct sock_filter *insns = NULL;
  unsigned short count = 0;
  char ip_text[IP_TEXT_MAX];
  char context[IP_TEXT_MAX + 32];

  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 2) return throw_type(env, "udpSocket(ip, port[, ttl[, filter]])");
  if (get_int(env, argv[1], 0, 65535, &port, "port") < 0) return NULL;
  if (get_addr(env, argv[0], (int)port, &local, &local_len, "ip") < 0) return NULL;
  if (get_string(env, argv[0], ip_text, sizeof ip_text, NULL, "ip") < 0) return NULL;
  if (argc > 2 && !is_nullish(env, argv[2]) && get_int(env, argv[2], 1, 255, &ttl, "ttl") < 0) return NULL;
  if (argc > 3 && !is_nullish(env, argv[3]) && get_bpf(env, argv[3], &insns, &count) < 0) return NULL;
  snprintf(context, sizeof context, "udpSocket(%s, %lld)", ip_text, (long long)port);

  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    free(insns);
    return throw_errno(env, errno, "socket", context, NULL);
  }
  const char *syscall = NULL;
  const char *hint = NULL;
  if (local.ss_family == AF_INET6) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) {
      syscall = "setsockopt(IPV6_V6ONLY)";
      goto fail;
    }
  }
  if (ttl > 0) {
    int v = (int)ttl;
    int rc = local.ss_family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v) : setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v);
    if (rc < 0) {
      syscall = local.ss_family == AF_INET ? "setsockopt(IP_TTL)" : "setsockopt(IPV6_UNICAST_HOPS)";
      goto fail;
    }
  }
  if (count > 0) {
    struct sock_fprog fprog = {.len = count, .filter = insns};
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) {
      syscall = "setsockopt(SO_ATTACH_FILTER)";
      hint = "the BPF filter was rejected";
      goto fail;
    }
  }
  if (bind(fd, (struct sockaddr *)&local, local_len) < 0) {
    syscall = "bind";
    hint = errno == EADDRNOTAVAIL ? "ip is not an address of this node (in this network namespace)" : errno == EADDRINUSE ? "the port is taken" : NULL;
    goto fail;
  }
  free(insns);
  return fd_to_js(env, fd);

fail : {
  int err = errno;
  close(fd);
  free(insns);
  return throw_errno(env, err, syscall, context, hint);
}
}

/* Replaces the socket filter of an open socket (udpSocket's), e.g. when the set of peers and
 * their minimum TTLs changes. */
static napi_value attach_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t fd;
  struct sock_filter *insns = NULL;
  unsigned short count = 0;
  if (!NAPI_OK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return throw_napi(env, "napi_get_cb_info");
  if (argc < 2) return throw_type(env, "attachFilter(fd, filter)");
  if (get_int(env, argv[0], 0, INT32_MAX, &fd, "fd") < 0) return NULL;
  if (get_bpf(env, argv[1], &insns, &count) < 0) return NULL;
  struct sock_fprog fprog = {.len = count, .filter = insns};
  int rc = setsockopt((int)fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  int err = errno;
  free(insns);
  if (rc < 0) return throw_errno(env, err, "setsockopt(SO_ATTACH_FILTER)", "attachFilter", "the BPF filter was rejected");
  return NULL;
}

/* -------------------------------------------------------------------------------------- */

static napi_value init(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"openPacket", open_packet}, {"sendPacket", send_packet}, {"closePacket", close_packet}, {"packetMembership", packet_membership}, {"interfaceInfo", interface_info},
      {"md5Connect", md5_connect}, {"md5Listen", md5_listen},   {"setMd5", set_md5},
      {"udpSocket", udp_socket},  {"attachFilter", attach_filter},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (!NAPI_OK(napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f)) ||
        !NAPI_OK(napi_set_named_property(env, exports, fns[i].name, f))) {
      return throw_napi(env, "module init");
    }
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
