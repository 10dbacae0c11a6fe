/* chlauncher runs clickhouse-local from libchdb.so (npm @chdb/lib-*) as a
 * program: chlauncher LIBCHDB [clickhouse-local args...]. Built by
 * `pushpipe dev up` with: cc -O2 -o chlauncher chlauncher.c -ldl */
#include <dlfcn.h>
#include <stdio.h>
typedef void *(*cmdline_fn)(int, char **);
typedef const char *(*str_fn)(void *);
typedef size_t (*len_fn)(void *);
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s LIBCHDB [clickhouse-local args...]\n", argv[0]); return 2; }
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
  if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  cmdline_fn f = (cmdline_fn)dlsym(h, "chdb_query_cmdline");
  str_fn errf = (str_fn)dlsym(h, "chdb_result_error");
  str_fn buff = (str_fn)dlsym(h, "chdb_result_buffer");
  len_fn lenf = (len_fn)dlsym(h, "chdb_result_length");
  if (!f || !errf || !buff || !lenf) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
  argv[1] = "clickhouse";
  void *r = f(argc - 1, argv + 1);
  if (!r) { fprintf(stderr, "chdb: no result\n"); return 1; }
  const char *e = errf(r);
  if (e && *e) { fprintf(stderr, "chdb: %s\n", e); return 1; }
  fwrite(buff(r), 1, lenf(r), stdout);
  return 0;
}
