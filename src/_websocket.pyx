# cython: language_level=3
"""RFC 6455 framing, sans-IO, compiled. The API (same as the twin) is documented in
``_websocket_py``.

# Strategy
The per-byte work is plain C in the verbatim block below. ``cyws_xor`` masks short payloads
inline (16 bytes per SSE2 step), long ones 128 bytes per iteration with AVX2 when the CPU
has it (checked once at run time), else 64 with SSE2, 8 with a uint64 elsewhere. It writes
straight into its destination, so ``build_frame`` copies the payload exactly once, into the
frame it returns.

The reader is a streaming state machine over the caller's buffer: a frame that arrives whole
is sliced out with one copy; a frame split across reads is copied (and unmasked) chunk by
chunk into a bytes object sized from its header, which becomes the message without another
copy. Only up to 14 header bytes are ever carried over between calls. UTF-8 validation is
CPython's strict decoder (C, with an ASCII fast path).
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.buffer cimport PyBUF_SIMPLE, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memcpy

import os

from ._models import WSMessage, WSMsgType
from .http_exceptions import WebSocketError

__all__ = (
    "KEY_POOL_SIZE",
    "FrameReader",
    "ListenerFeed",
    "Sender",
    "build_frame",
    "websocket_mask",
)


cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
    #include <emmintrin.h>
    #define CYWS_HAVE_SSE2 1
    #endif
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    #define CYWS_HAVE_AVX2 1
    /* 128 bytes per iteration with 256-bit registers, used when the CPU has AVX2
       (checked once at run time: the extension itself is built for baseline x86-64). */
    __attribute__((target("avx2")))
    static Py_ssize_t cyws_xor_avx2(unsigned char *dst, const unsigned char *src,
                                    Py_ssize_t n, uint32_t k32)
    {
        Py_ssize_t i = 0;
        const __m256i vk = _mm256_set1_epi32((int)k32);
        for (; i + 128 <= n; i += 128) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(src + i));
            __m256i b = _mm256_loadu_si256((const __m256i *)(src + i + 32));
            __m256i c = _mm256_loadu_si256((const __m256i *)(src + i + 64));
            __m256i d = _mm256_loadu_si256((const __m256i *)(src + i + 96));
            _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, vk));
            _mm256_storeu_si256((__m256i *)(dst + i + 32), _mm256_xor_si256(b, vk));
            _mm256_storeu_si256((__m256i *)(dst + i + 64), _mm256_xor_si256(c, vk));
            _mm256_storeu_si256((__m256i *)(dst + i + 96), _mm256_xor_si256(d, vk));
        }
        return i;
    }
    static int cyws_avx2 = -1;  /* -1: not checked yet */
    #endif

    #if defined(__GNUC__) || defined(__clang__)
    #define CYWS_ALWAYS_INLINE static inline __attribute__((always_inline))
    #else
    #define CYWS_ALWAYS_INLINE static inline
    #endif

    /* dst[i..n) = src[i..n) ^ the key k (k32 is the same 4 bytes): 8, then 4, then 1 byte
       at a time. The tail after the SIMD loops of both paths below; always inlined, so the
       short path still makes no call. */
    CYWS_ALWAYS_INLINE void cyws_xor_tail(unsigned char *dst, const unsigned char *src,
                                          Py_ssize_t i, Py_ssize_t n,
                                          const unsigned char *k, uint32_t k32)
    {
        uint64_t k64 = ((uint64_t)k32 << 32) | k32;  /* k0..k3 k0..k3 in memory, any endianness */
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, src + i, 8);
            w ^= k64;
            memcpy(dst + i, &w, 8);
        }
        if (i + 4 <= n) {
            uint32_t w;
            memcpy(&w, src + i, 4);
            w ^= k32;
            memcpy(dst + i, &w, 4);
            i += 4;
        }
        for (; i < n; i++)
            dst[i] = src[i] ^ k[i & 3];
    }

    /* dst[i] = src[i] ^ (the bytes of k32, repeated); dst may be src. */
    static void cyws_xor32(unsigned char *dst, const unsigned char *src, Py_ssize_t n,
                           uint32_t k32)
    {
        unsigned char k[4];
        Py_ssize_t i = 0;
        memcpy(k, &k32, 4);
    #ifdef CYWS_HAVE_AVX2
        if (n >= 256) {
            if (cyws_avx2 < 0) {
                __builtin_cpu_init();
                cyws_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
            }
            if (cyws_avx2)
                i = cyws_xor_avx2(dst, src, n, k32);
        }
    #endif
    #ifdef CYWS_HAVE_SSE2
        if (n - i >= 64) {
            const __m128i vk = _mm_set1_epi32((int)k32);
            for (; i + 64 <= n; i += 64) {
                __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
                __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
                __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
                __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
                _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(a, vk));
                _mm_storeu_si128((__m128i *)(dst + i + 16), _mm_xor_si128(b, vk));
                _mm_storeu_si128((__m128i *)(dst + i + 32), _mm_xor_si128(c, vk));
                _mm_storeu_si128((__m128i *)(dst + i + 48), _mm_xor_si128(d, vk));
            }
        }
    #endif
        cyws_xor_tail(dst, src, i, n, k, k32);
    }

    /* dst[i] = src[i] ^ key[(i + phase) & 3]: the key rotated by the bytes already masked
       (a payload unmasked chunk by chunk); phase 0 folds to one load when inlined. */
    static inline void cyws_xor(unsigned char *dst, const unsigned char *src, Py_ssize_t n,
                                const unsigned char *key, Py_ssize_t phase)
    {
        unsigned char k[4];
        uint32_t k32;
        k[0] = key[phase & 3];
        k[1] = key[(phase + 1) & 3];
        k[2] = key[(phase + 2) & 3];
        k[3] = key[(phase + 3) & 3];
        memcpy(&k32, k, 4);
        if (n < 128) {  /* short payloads: stay inline, no call and no SIMD set-up */
            Py_ssize_t i = 0;
    #ifdef CYWS_HAVE_SSE2
            if (n >= 16) {
                const __m128i vk = _mm_set1_epi32((int)k32);
                for (; i + 16 <= n; i += 16)
                    _mm_storeu_si128((__m128i *)(dst + i), _mm_xor_si128(
                        _mm_loadu_si128((const __m128i *)(src + i)), vk));
            }
    #endif
            cyws_xor_tail(dst, src, i, n, k, k32);
            return;
        }
        cyws_xor32(dst, src, n, k32);
    }
    """
    void cyws_xor(unsigned char *dst, const unsigned char *src, Py_ssize_t n,
                  const unsigned char *key, Py_ssize_t phase) nogil


cdef extern from *:
    """
    /* A WSMessage (a tuple subclass) built as tuple.__new__(WSMessage, (kind, data, extra))
       builds it, without the generic call and its argument tuple: the type's own allocator,
       then the three items. */
    static PyObject *cyws_message(PyObject *cls, PyObject *kind, PyObject *data,
                                  PyObject *extra)
    {
        PyTypeObject *type = (PyTypeObject *)cls;
        PyObject *msg = type->tp_alloc(type, 3);
        if (msg == NULL)
            return NULL;
        Py_INCREF(kind);
        PyTuple_SET_ITEM(msg, 0, kind);
        Py_INCREF(data);
        PyTuple_SET_ITEM(msg, 1, data);
        Py_INCREF(extra);
        PyTuple_SET_ITEM(msg, 2, extra);
        return msg;
    }
    """
    object cyws_message(object cls, object kind, object data, object extra)


#: bytes of os.urandom fetched at once for masking keys (1024 frames' worth).
KEY_POOL_SIZE = 4096

cdef enum:
    CONTROL_MAX = 125
    # the largest payload buffer allocated up front from a header's claim; beyond it the
    # buffer grows as the bytes really arrive (max_msg_size=0 must not trust the peer)
    PREALLOC_MAX = 64 * 1024 * 1024

cdef object _WSMessage = WSMessage
cdef object _TEXT = WSMsgType.TEXT
cdef object _BINARY = WSMsgType.BINARY
cdef object _CLOSE = WSMsgType.CLOSE
cdef object _PING = WSMsgType.PING
cdef object _PONG = WSMsgType.PONG
cdef object _WebSocketError = WebSocketError
cdef object _urandom = os.urandom


# ---------------------------------------------------------------- masking keys

cdef bytes _key_pool = b""
cdef Py_ssize_t _key_pos = 0


cdef inline const unsigned char* _next_key() except NULL:
    global _key_pool, _key_pos
    if _key_pos + 4 > PyBytes_GET_SIZE(_key_pool):
        _key_pool = _urandom(KEY_POOL_SIZE)
        _key_pos = 0
    cdef const unsigned char* key = <const unsigned char*>PyBytes_AS_STRING(_key_pool) + _key_pos
    _key_pos += 4
    return key


def _discard_keys():
    """Forget the pooled keys (run in a forked child: never share keys with the parent)."""
    global _key_pool, _key_pos
    _key_pool = b""
    _key_pos = 0


os.register_at_fork(after_in_child=_discard_keys)


# ---------------------------------------------------------------- masking

def websocket_mask(bytes mask not None, data):
    """XOR ``data`` (bytearray or writable memoryview) in place with the 4-byte ``mask``."""
    cdef Py_buffer view
    if PyBytes_GET_SIZE(mask) != 4:
        raise ValueError(f"the mask must be 4 bytes, not {PyBytes_GET_SIZE(mask)}")
    cdef const unsigned char* key = <const unsigned char*>PyBytes_AS_STRING(mask)
    cdef unsigned char* buf
    if type(data) is bytearray:
        buf = <unsigned char*>PyByteArray_AS_STRING(data)
        cyws_xor(buf, buf, PyByteArray_GET_SIZE(data), key, 0)
        return
    if not isinstance(data, memoryview) or data.readonly:
        raise TypeError(f"data must be a bytearray or writable memoryview, not {data!r:.40}")
    PyObject_GetBuffer(data, &view, PyBUF_WRITABLE)
    try:
        buf = <unsigned char*>view.buf
        cyws_xor(buf, buf, view.len, key, 0)
    finally:
        PyBuffer_Release(&view)


# ---------------------------------------------------------------- writing

cdef inline bint _valid_opcode(int opcode):
    return opcode <= 2 and opcode >= 0 or opcode >= 8 and opcode <= 10


def build_frame(int opcode, payload, *, bint fin=True, bint rsv1=False, bint mask=True,
                bytes key=None):
    """Serialise one frame: header, key and masked payload in one new bytes object."""
    return _build(opcode, payload, fin, rsv1, mask, key)


cdef bytes _build(int opcode, payload, bint fin, bint rsv1, bint mask, bytes key):
    cdef Py_buffer view
    cdef bint release = False
    cdef const unsigned char* src
    cdef Py_ssize_t n
    if not _valid_opcode(opcode):
        raise ValueError(f"invalid opcode {opcode!r}")
    if type(payload) is bytes:
        src = <const unsigned char*>PyBytes_AS_STRING(payload)
        n = PyBytes_GET_SIZE(payload)
    elif type(payload) is bytearray:
        src = <const unsigned char*>PyByteArray_AS_STRING(payload)
        n = PyByteArray_GET_SIZE(payload)
    elif isinstance(payload, str):
        raise TypeError("payload must be bytes-like, not str (encode text first)")
    else:
        PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE)
        release = True
        src = <const unsigned char*>view.buf
        n = view.len
    try:
        return _frame(opcode, src, n, fin, rsv1, mask, key)
    finally:
        if release:
            PyBuffer_Release(&view)


cdef bytes _frame(int opcode, const unsigned char* src, Py_ssize_t n, bint fin, bint rsv1,
                  bint mask, bytes key):
    cdef Py_ssize_t head
    cdef const unsigned char* k = NULL
    cdef unsigned char* w
    cdef int i
    if opcode >= 8:
        if n > CONTROL_MAX:
            raise ValueError(f"control frame payload is {n} bytes (max {CONTROL_MAX})")
        if not fin:
            raise ValueError("control frames cannot be fragmented")
    if mask:
        if key is None:
            k = _next_key()
        elif PyBytes_GET_SIZE(key) != 4:
            raise ValueError(f"the masking key must be 4 bytes, not {PyBytes_GET_SIZE(key)}")
        else:
            k = <const unsigned char*>PyBytes_AS_STRING(key)
    head = 2 if n < 126 else (4 if n < 0x10000 else 10)
    cdef bytes out = PyBytes_FromStringAndSize(NULL, head + (4 if mask else 0) + n)
    w = <unsigned char*>PyBytes_AS_STRING(out)
    w[0] = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if head == 2:
        w[1] = <unsigned char>n
    elif head == 4:
        w[1] = 126
        w[2] = <unsigned char>(n >> 8)
        w[3] = <unsigned char>n
    else:
        w[1] = 127
        for i in range(8):
            w[2 + i] = <unsigned char>((<unsigned long long>n) >> (56 - 8 * i))
    if mask:
        w[1] |= 0x80
        memcpy(w + head, k, 4)
        cyws_xor(w + head + 4, src, n, k, 0)
    else:
        memcpy(w + head, src, n)
    return out


# ---------------------------------------------------------------- reading

cdef inline bint _close_code_ok(int code):
    return (1000 <= code <= 1003) or (1007 <= code <= 1014) or (3000 <= code <= 4999)


cdef class FrameReader:
    """Incremental frame parser and message assembler (see ``_websocket_py``)."""

    cdef readonly Py_ssize_t max_msg_size
    cdef object _inflater
    cdef bint _accept_masked
    cdef bint _decode_text
    # a header split across reads: its first _hdr_have bytes
    cdef unsigned char _hdr[14]
    cdef Py_ssize_t _hdr_have
    # the frame whose payload is being received
    cdef bint _in_payload
    cdef int _b0
    cdef bint _masked
    cdef unsigned char _key[4]
    cdef Py_ssize_t _len
    cdef Py_ssize_t _got
    cdef object _payload  # bytes being filled, None until the first partial chunk
    # the fragmented message in progress (_msg_opcode -1: none)
    cdef int _msg_opcode
    cdef bint _msg_compressed
    cdef list _msg_parts
    cdef Py_ssize_t _msg_size
    cdef object _error

    def __init__(self, Py_ssize_t max_msg_size=4 * 1024 * 1024, *, inflater=None,
                 bint accept_masked=True, bint decode_text=True):
        if max_msg_size < 0:
            raise ValueError("max_msg_size must be >= 0 (0 = unlimited)")
        self.max_msg_size = max_msg_size
        self._inflater = inflater
        self._accept_masked = accept_masked
        self._decode_text = decode_text
        self._hdr_have = 0
        self._in_payload = False
        self._payload = None
        self._msg_opcode = -1
        self._msg_compressed = False
        self._msg_parts = None
        self._msg_size = 0
        self._error = None

    def feed_data(self, data):
        """Parse ``data`` (any split); return the messages it completes."""
        return self._feed_data(data)

    cdef list _feed_data(self, data):
        cdef Py_buffer view
        cdef list out = []
        if self._error is not None:
            raise self._error
        try:
            if type(data) is bytes:
                self._feed(<const unsigned char*>PyBytes_AS_STRING(data),
                           PyBytes_GET_SIZE(data), out)
            elif type(data) is bytearray:
                self._feed(<const unsigned char*>PyByteArray_AS_STRING(data),
                           PyByteArray_GET_SIZE(data), out)
            else:
                PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
                try:
                    self._feed(<const unsigned char*>view.buf, view.len, out)
                finally:
                    PyBuffer_Release(&view)
        except WebSocketError as exc:
            exc.messages = out
            self._error = exc
            self._payload = None
            self._msg_parts = None
            raise
        return out

    cdef int _fail(self, int code, str message) except -1:
        raise _WebSocketError(code, message)

    cdef int _feed(self, const unsigned char* p, Py_ssize_t n, list out) except -1:
        cdef Py_ssize_t pos = 0, need, take, avail
        cdef const unsigned char* h
        cdef object payload
        cdef unsigned char* dst
        while True:
            if not self._in_payload:
                if pos >= n:
                    break
                if self._hdr_have == 0 and n - pos >= 2:
                    need = _header_size(p[pos + 1])
                    if n - pos >= need:
                        h = p + pos
                        pos += need
                    else:
                        memcpy(self._hdr, p + pos, n - pos)
                        self._hdr_have = n - pos
                        break
                else:
                    # finish a header that started in an earlier read
                    if self._hdr_have < 2:
                        take = min(2 - self._hdr_have, n - pos)
                        memcpy(self._hdr + self._hdr_have, p + pos, take)
                        self._hdr_have += take
                        pos += take
                        if self._hdr_have < 2:
                            break
                    need = _header_size(self._hdr[1])
                    take = min(need - self._hdr_have, n - pos)
                    memcpy(self._hdr + self._hdr_have, p + pos, take)
                    self._hdr_have += take
                    pos += take
                    if self._hdr_have < need:
                        break
                    h = self._hdr
                    self._hdr_have = 0
                self._start_frame(h)
            avail = n - pos
            if self._payload is None and avail >= self._len:
                # the whole payload is here: one copy
                if self._masked:
                    # a new object (never the cached 1-byte singletons), unmasked into place
                    payload = PyBytes_FromStringAndSize(NULL, self._len)
                    dst = <unsigned char*>PyBytes_AS_STRING(payload)
                    cyws_xor(dst, p + pos, self._len, self._key, 0)
                else:
                    payload = PyBytes_FromStringAndSize(<const char*>(p + pos), self._len)
                pos += self._len
            else:
                if avail == 0:
                    break
                take = min(avail, self._len - self._got)
                if self._len <= PREALLOC_MAX:
                    if self._payload is None:
                        self._payload = PyBytes_FromStringAndSize(NULL, self._len)
                    dst = <unsigned char*>PyBytes_AS_STRING(self._payload) + self._got
                else:
                    # a huge claim (no or a huge max_msg_size): grow as bytes really arrive
                    if self._payload is None:
                        self._payload = bytearray()
                    PyByteArray_Resize(self._payload, self._got + take)
                    dst = <unsigned char*>PyByteArray_AS_STRING(self._payload) + self._got
                if self._masked:
                    cyws_xor(dst, p + pos, take, self._key, self._got)
                else:
                    memcpy(dst, p + pos, take)
                self._got += take
                pos += take
                if self._got < self._len:
                    break
                payload = self._payload
                if type(payload) is bytearray:
                    payload = bytes(payload)
                self._payload = None
                self._got = 0
            self._in_payload = False
            msg = self._on_frame(payload)
            if msg is not None:
                out.append(msg)
        return 0

    cdef int _start_frame(self, const unsigned char* h) except -1:
        """Decode and check a complete header, before any of its payload is kept."""
        cdef int b0 = h[0], b1 = h[1], opcode = h[0] & 0x0F, i
        cdef Py_ssize_t length = b1 & 0x7F, off = 2
        cdef unsigned long long big
        if length == 126:
            length = (h[2] << 8) | h[3]
            off = 4
        elif length == 127:
            if h[2] & 0x80:
                self._fail(1002, "64-bit frame length has the top bit set")
            big = 0
            for i in range(8):
                big = (big << 8) | h[2 + i]
            length = <Py_ssize_t>big
            off = 10
        if b0 & 0x30:
            self._fail(1002, "RSV2/RSV3 bit set without a negotiated extension")
        if b1 & 0x80 and not self._accept_masked:
            self._fail(1002, "masked frame from the server")
        if opcode >= 8:
            if opcode > 10:
                self._fail(1002, f"reserved opcode {opcode:#x}")
            if not b0 & 0x80:
                self._fail(1002, "fragmented control frame")
            if length > CONTROL_MAX:
                self._fail(1002, f"control frame of {length} bytes (max 125)")
            if b0 & 0x40:
                self._fail(1002, "RSV1 bit set on a control frame")
        else:
            if opcode > 2:
                self._fail(1002, f"reserved opcode {opcode:#x}")
            if opcode == 0:
                if self._msg_opcode < 0:
                    self._fail(1002, "continuation frame with no message to continue")
                if b0 & 0x40:
                    self._fail(1002, "RSV1 bit set on a continuation frame")
            else:
                if self._msg_opcode >= 0:
                    self._fail(1002, "new data frame before the fragmented message ended")
                if b0 & 0x40 and self._inflater is None:
                    self._fail(1002, "RSV1 bit set without permessage-deflate")
            if self.max_msg_size and (
                    length > self.max_msg_size
                    or (opcode == 0 and self._msg_size + length > self.max_msg_size)):
                self._fail(1009, f"message exceeds max_msg_size ({self.max_msg_size} bytes)")
        self._b0 = b0
        self._len = length
        self._got = 0
        self._masked = b1 & 0x80
        if self._masked:
            memcpy(self._key, h + off, 4)
        self._in_payload = True
        return 0

    cdef object _on_frame(self, bytes payload):
        cdef int b0 = self._b0, opcode = b0 & 0x0F
        if opcode >= 8:
            return self._control(opcode, payload)
        if opcode:
            if b0 & 0x80:
                return self._message(opcode, payload, b0 & 0x40)
            self._msg_opcode = opcode
            self._msg_compressed = b0 & 0x40
            self._msg_parts = [payload]
            self._msg_size = PyBytes_GET_SIZE(payload)
            return None
        self._msg_parts.append(payload)
        self._msg_size += PyBytes_GET_SIZE(payload)
        if not b0 & 0x80:
            return None
        data = b"".join(self._msg_parts)
        opcode = self._msg_opcode
        compressed = self._msg_compressed
        self._msg_opcode = -1
        self._msg_parts = None
        self._msg_size = 0
        return self._message(opcode, data, compressed)

    cdef object _message(self, int opcode, bytes data, bint compressed):
        if compressed:
            data = self._inflater.inflate(data, self.max_msg_size)
        if opcode == 1:
            if not self._decode_text:  # raw bytes, not validated (see _websocket_py)
                return cyws_message(_WSMessage, _TEXT, data, "")
            try:
                text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), NULL)
            except UnicodeDecodeError as exc:
                self._fail(1007, f"text message is not UTF-8 ({exc.reason})")
            return cyws_message(_WSMessage, _TEXT, text, "")
        return cyws_message(_WSMessage, _BINARY, data, "")

    cdef object _control(self, int opcode, bytes payload):
        cdef Py_ssize_t n
        cdef const unsigned char* c
        cdef int code
        if opcode == 9:
            return cyws_message(_WSMessage, _PING, payload, "")
        if opcode == 10:
            return cyws_message(_WSMessage, _PONG, payload, "")
        n = PyBytes_GET_SIZE(payload)
        if n == 0:
            return cyws_message(_WSMessage, _CLOSE, 1005, "")
        if n == 1:
            self._fail(1002, "close frame with a 1-byte payload")
        c = <const unsigned char*>PyBytes_AS_STRING(payload)
        code = (c[0] << 8) | c[1]
        if not _close_code_ok(code):
            self._fail(1002, f"invalid close code {code}")
        try:
            reason = PyUnicode_DecodeUTF8(<const char*>(c + 2), n - 2, NULL)
        except UnicodeDecodeError as exc:
            self._fail(1007, f"close reason is not UTF-8 ({exc.reason})")
        return cyws_message(_WSMessage, _CLOSE, code, reason)


cdef inline Py_ssize_t _header_size(unsigned char b1) noexcept:
    cdef Py_ssize_t size = 2
    cdef unsigned char length = b1 & 0x7F
    if length == 126:
        size = 4
    elif length == 127:
        size = 10
    if b1 & 0x80:
        size += 4
    return size



# ---------------------------------------------------------------- the socket's per-message glue

cdef class Sender:
    """The data-frame writer of one client WebSocket (see ``_websocket_py``)."""

    cdef object _ws
    cdef object _closed_error
    cdef object _deflater
    cdef object _proto

    def __init__(self, ws, closed_error):
        self._ws = ws
        self._closed_error = closed_error
        self._deflater = ws._deflater
        self._proto = ws._proto

    def send(self, int opcode, payload, compress=None):
        return self._send(opcode, payload, compress)

    def send_bytes(self, data, compress=None):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        return self._send(2, data, compress)

    def send_str(self, data, compress=None):
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        return self._send(1, (<str>data).encode("utf-8"), compress)

    cdef bint _send(self, int opcode, payload, compress) except -1:
        ws = self._ws
        if ws._closed or ws._close_sent:
            raise self._closed_error("WebSocket connection is closed")
        transport = ws._transport
        if transport is None or transport.is_closing():
            raise self._closed_error("Cannot write to closing transport")
        deflater = self._deflater
        if deflater is not None and (compress is None or compress):
            transport.write(_build(opcode, deflater.deflate(payload), True, True, True, None))
        else:
            transport.write(_build(opcode, payload, True, False, True, None))
        return True if self._proto._write_paused else False


cdef class ListenerFeed:
    """The receiver of a client WebSocket with a listener (see ``_websocket_py``)."""

    cdef object _ws
    cdef object _reader
    cdef FrameReader _compiled  # the reader when it is this module's: called directly
    cdef object _listener
    cdef bint _heartbeat

    def __init__(self, ws, reader, listener):
        self._ws = ws
        self._reader = reader
        self._compiled = reader if type(reader) is FrameReader else None
        self._listener = listener
        self._heartbeat = ws._heartbeat is not None

    def feed_data(self, data):
        ws = self._ws
        if ws._listener_done:
            return
        if self._heartbeat:
            ws._rx_seen = True
        error = None
        try:
            if self._compiled is not None:
                messages = self._compiled._feed_data(data)
            else:
                messages = self._reader.feed_data(data)
        except WebSocketError as exc:
            messages = exc.messages
            error = exc
        listener = self._listener
        for msg in messages:
            # the reader's WSMessage (a tuple subclass): read in place, not through the
            # subclass's slow item slot
            kind = <object>PyTuple_GET_ITEM(msg, 0)
            if kind is _BINARY or kind is _TEXT:
                if ws._closed:
                    continue
                try:
                    listener(ws, msg)
                except Exception as exc:
                    ws._listener_failed(exc)
                    return
            elif not ws._listener_control(msg):
                return
        if error is not None:
            ws._fail(error)

    def feed_eof(self):
        self._ws.feed_eof()

    def set_exception(self, exc):
        self._ws.set_exception(exc)
