/* chlauncher runs clickhouse-local from libchdb.so (npm @chdb/lib-*) as a
 * program: chlauncher LIBCHDB [clickhouse-local args...]. Built by
 * `pushpipe dev up` with: cc -O2 -o chlauncher chlauncher.c -ldl
 *
 * It supervises: the engine runs in a child process, and a child that dies
 * by a signal is started again after a second. The engine served over TCP
 * aborts on some client disconnects (an exception escapes its TCP handler
 * when a client is killed mid-request, as the smoke test does on purpose);
 * a production ClickHouse server does not, so the dev stack restarts it the
 * way a service manager would. A child that exits (the serving query was
 * killed: a clean stop) or a SIGTERM/SIGINT to the launcher ends it. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef void *(*cmdline_fn)(int, char **);
typedef const char *(*str_fn)(void *);
typedef size_t (*len_fn)(void *);

static volatile sig_atomic_t stopping = 0;
static volatile pid_t child = 0;

static void forward(int sig) {
  stopping = 1;
  if (child > 0) kill(child, sig);
}

static int run_engine(int argc, char **argv) {
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

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s LIBCHDB [clickhouse-local args...]\n", argv[0]); return 2; }
  signal(SIGTERM, forward);
  signal(SIGINT, forward);
  for (;;) {
    pid_t pid = fork();
    if (pid < 0) { perror("chlauncher: fork"); return 1; }
    if (pid == 0) {
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the launcher */
      return run_engine(argc, argv);
    }
    child = pid;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    child = 0;
    if (stopping || WIFEXITED(status)) return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    fprintf(stderr, "chlauncher: the engine died by signal %d; starting it again in 1 s\n", WTERMSIG(status));
    fflush(stderr);
    sleep(1);
  }
}
