/* LD_PRELOAD shim for the live test: SIGKILLs the process at a chosen libvirt
 * call, so that "vpt-tune killed in the middle of --apply --live" is tested at
 * every step that changes something, not only where a random timer lands.
 *
 *   VPT_KILL_AT=FUNCTION:N:before|after
 *     FUNCTION one of virDomainDefineXML, virDomainPinEmulator,
 *     virDomainPinIOThread, virDomainPinVcpuFlags; N counts its calls from 1.
 *     before: killed on entering the Nth call (nothing of it reached libvirt);
 *     after: killed as soon as the Nth call returned (libvirt did it).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef void* virDomainPtr;
typedef void* virConnectPtr;

static int calls(const char* name, int* count) {
  /* 1 = kill before, 2 = kill after, 0 = let it run. */
  const char* at = getenv("VPT_KILL_AT");
  if (!at) return 0;
  size_t len = strlen(name);
  if (strncmp(at, name, len) != 0 || at[len] != ':') return 0;
  int n = atoi(at + len + 1);
  ++*count;
  if (*count != n) return 0;
  return strstr(at + len + 1, ":after") ? 2 : 1;
}

static void die(const char* name, const char* when) {
  fprintf(stderr, "kill-point: SIGKILL %s %s\n", when, name);
  kill(getpid(), SIGKILL);
}

#define WRAP(ret, name, params, args)                              \
  ret name params {                                                \
    static int count;                                              \
    static ret(*real) params;                                      \
    if (!real) real = (ret(*) params)dlsym(RTLD_NEXT, #name);      \
    int mode = calls(#name, &count);                               \
    if (mode == 1) die(#name, "before");                           \
    ret r = real args;                                             \
    if (mode == 2) die(#name, "after");                            \
    return r;                                                      \
  }

WRAP(virDomainPtr, virDomainDefineXML, (virConnectPtr conn, const char* xml), (conn, xml))
WRAP(int, virDomainPinEmulator, (virDomainPtr d, unsigned char* map, int len, unsigned int flags), (d, map, len, flags))
WRAP(int, virDomainPinIOThread, (virDomainPtr d, unsigned int id, unsigned char* map, int len, unsigned int flags),
     (d, id, map, len, flags))
WRAP(int, virDomainPinVcpuFlags, (virDomainPtr d, unsigned int vcpu, unsigned char* map, int len, unsigned int flags),
     (d, vcpu, map, len, flags))
