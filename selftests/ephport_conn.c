// SPDX-License-Identifier: GPL-2.0
/*
 * ephport_conn: make ephemeral-port traffic and print the ports it got.
 *
 * Used by the demo and the shell selftests. Each operation asks the kernel
 * for an ephemeral port and prints it (one per line):
 *   tcp (default): connect() to a loopback listener
 *   bind:          TCP bind() to port 0
 *   udp:           sendto() on an unbound UDP socket (autobind)
 * The sockets stay open until all operations are done, then the program
 * holds them for -s seconds and closes them.
 */
#define _GNU_SOURCE
#include <getopt.h>

#include "ephport_test.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ephport_conn [-6] [-m tcp|bind|udp] [-n COUNT] [-s SECONDS] [-q]\n"
		"  -6         IPv6 loopback instead of IPv4\n"
		"  -m MODE    tcp: connect() to a loopback listener (default),\n"
		"             bind: TCP bind() to port 0, udp: UDP autobind by sendto()\n"
		"  -n COUNT   operations (default 1)\n"
		"  -s SECONDS hold the sockets open this long before closing\n"
		"  -q         do not print the ports, only the summary\n"
		"Prints each port the kernel chose, then \"ok N fail M\" on stderr.\n"
		"Exits 0 if every operation succeeded, 1 if some failed.\n");
}

int main(int argc, char **argv)
{
	int family = AF_INET, count = 1, hold = 0, quiet = 0, ok = 0, fail = 0;
	const char *mode = "tcp";
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd = -1, lport = 0, i, c, *fds;

	while ((c = getopt(argc, argv, "6m:n:s:qh")) != -1) {
		switch (c) {
		case '6': family = AF_INET6; break;
		case 'm': mode = optarg; break;
		case 'n': count = atoi(optarg); break;
		case 's': hold = atoi(optarg); break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (count < 1 || (strcmp(mode, "tcp") && strcmp(mode, "bind") &&
			  strcmp(mode, "udp"))) {
		usage(stderr);
		return 2;
	}
	fds = calloc(count, sizeof(*fds));
	if (!fds)
		return 2;

	if (!strcmp(mode, "tcp")) {
		/* The listener takes a fixed port outside the usual ranges. */
		lfd = socket(family, SOCK_STREAM, 0);
		len = ep_loopback(family, &ss, 0);
		for (lport = 1024; lport < 2048; lport++) {
			len = ep_loopback(family, &ss, lport);
			if (!bind(lfd, (struct sockaddr *)&ss, len))
				break;
		}
		if (lfd < 0 || lport == 2048 || listen(lfd, 4096)) {
			perror("listener");
			return 2;
		}
	}

	for (i = 0; i < count; i++) {
		int type = strcmp(mode, "udp") ? SOCK_STREAM : SOCK_DGRAM;
		int fd = socket(family, type, 0);
		int r;

		fds[i] = fd;
		if (fd < 0) {
			fail++;
			continue;
		}
		if (!strcmp(mode, "tcp")) {
			len = ep_loopback(family, &ss, lport);
			r = connect(fd, (struct sockaddr *)&ss, len);
		} else if (!strcmp(mode, "bind")) {
			len = ep_loopback(family, &ss, 0);
			r = bind(fd, (struct sockaddr *)&ss, len);
		} else {
			/* Port 9 (discard): nothing listens, the send still autobinds. */
			len = ep_loopback(family, &ss, 9);
			r = sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1 ? 0 : -1;
		}
		if (r) {
			if (!quiet)
				printf("error %s\n", strerror(errno));
			fail++;
			continue;
		}
		ok++;
		if (!quiet)
			printf("%d\n", ep_local_port(fd));
	}
	fflush(stdout);
	fprintf(stderr, "ok %d fail %d\n", ok, fail);
	if (hold)
		sleep(hold);
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (lfd >= 0)
		close(lfd);
	free(fds);
	return fail ? 1 : 0;
}
