/*
 * flock(2) from inside hactl (issue 25): `tryLock(fd)` takes an exclusive flock on an open descriptor
 * without waiting, as util-linux `flock -xn` does, and saves the fork and exec of flock(1) (about a
 * third of a `hactl pause`). The same system call on the same open file description: a lock taken here
 * and one taken by flock(1), by this or by an older hactl, exclude each other (test/unit/lock-native.test.ts).
 *
 * Returns 0 when the lock is ours, else the errno: EWOULDBLOCK when another holds it. Waiting stays with
 * flock(1) (src/state/lock.ts): a blocking call here would stop Node's event loop and its deadline.
 *
 * Built by scripts/build-native.mjs with the system's C compiler, into dist/native/flock.node. No
 * headers are needed: the five Node-API functions it uses are declared below (Node-API's ABI is stable
 * across Node versions, version 1 of it is enough). Without a compiler the build skips it and hactl
 * takes its locks with flock(1), as before.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/file.h>

typedef struct napi_env__ *napi_env;
typedef struct napi_value__ *napi_value;
typedef struct napi_callback_info__ *napi_callback_info;
typedef int napi_status; /* napi_ok is 0 */
typedef napi_value (*napi_callback)(napi_env, napi_callback_info);

extern napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t *, napi_value *, napi_value *, void **);
extern napi_status napi_get_value_int32(napi_env, napi_value, int32_t *);
extern napi_status napi_create_int32(napi_env, int32_t, napi_value *);
extern napi_status napi_create_function(napi_env, const char *, size_t, napi_callback, void *, napi_value *);
extern napi_status napi_set_named_property(napi_env, napi_value, const char *, napi_value);
extern napi_status napi_throw_type_error(napi_env, const char *, const char *);

static napi_value try_lock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc != 1 ||
      napi_get_value_int32(env, argv[0], &fd) != 0 || fd < 0) {
    napi_throw_type_error(env, NULL, "tryLock(fd): fd must be an open descriptor");
    return NULL;
  }
  int rc;
  do rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc == -1 && errno == EINTR);
  if (napi_create_int32(env, rc == 0 ? 0 : errno, &result) != 0) return NULL;
  return result;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "tryLock", 7, try_lock, NULL, &fn) != 0) return NULL;
  if (napi_set_named_property(env, exports, "tryLock", fn) != 0) return NULL;
  return exports;
}
