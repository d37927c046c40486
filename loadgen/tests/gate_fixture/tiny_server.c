/* "Another project's server" for loadgen/tests/gate.rs, the integration test of
 * scripts/perf-gate.sh --build/--server/--scenario. `./tiny_server PORT` listens on
 * 127.0.0.1:PORT and serves one keep-alive connection at a time: every complete request
 * head (GET, no body) in a read gets "ok", all the answers of one read in one write.
 * Built with -DEXTRA_WORK=N it runs a fixed loop of N iterations per request: a known
 * number of extra instructions per request for the gate's exact mode to find. Prints
 * nothing; exits 0 on SIGTERM (callgrind writes its output file on that exit). */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN); /* a client that goes away mid-write is not our death */
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128)) return 1;
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    /* The shortest head ("GET / HTTP/1.1\r\n\r\n", 18 bytes) gets 40 bytes back: out holds
     * the answers to a full `in`. */
    static char in[65536], out[4 * 65536];
    for (;;) {
        int c = accept(ls, 0, 0);
        if (c < 0) continue;
        size_t have = 0;
        ssize_t n;
        while ((n = read(c, in + have, sizeof in - have)) > 0) {
            have += (size_t)n;
            size_t used = 0, o = 0;
            char *end;
            while ((end = memmem(in + used, have - used, "\r\n\r\n", 4)) && o + sizeof ok <= sizeof out) {
#ifdef EXTRA_WORK
                volatile unsigned long x = 1;
                for (int i = 0; i < EXTRA_WORK; i++) x = x * 31 + (unsigned long)i;
#endif
                memcpy(out + o, ok, sizeof ok - 1);
                o += sizeof ok - 1;
                used = (size_t)(end - in) + 4;
            }
            memmove(in, in + used, have - used);
            have -= used;
            if (o && write(c, out, o) != (ssize_t)o) break;
        }
        close(c); /* EOF, an error, or a head larger than 64 KiB */
    }
}
