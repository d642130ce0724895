/*
 * prom: Prometheus text format and its small listener.  See prom.h.
 */
#include "util/prom.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

void
prom_init(struct prom_buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->overflow = cap == 0;
	if (cap > 0)
		mem[0] = '\0';
}

void
prom_printf(struct prom_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

void
prom_family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
	prom_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

const char *
prom_label_escape(const char *v, char *out, size_t cap)
{
	size_t o = 0;

	for (; *v && o + 3 < cap; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
	return out;
}

struct server {
	int fd;
	size_t cap;
	void (*render)(struct prom_buf *b);
	char *mem;
};

/* The listener's state, for as long as the process lives. */
static struct server *server;

static void
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read the request head (or as much as fits); true when it is GET /metrics. */
static bool
wants_metrics(int fd)
{
	char buf[2048];
	size_t got = 0;

	while (got < sizeof(buf) - 1) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL)
			break;
	}
	buf[got] = '\0';
	return !strncmp(buf, "GET /metrics ", 13) || !strncmp(buf, "GET /metrics?", 13);
}

static void *
serve(void *arg)
{
	struct server *s = arg;
	struct timeval tv = {.tv_sec = 3};

	for (;;) {
		char head[256];
		struct prom_buf b;
		int c = accept(s->fd, NULL, NULL);

		if (c < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				sleep(1);
			continue;
		}
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!wants_metrics(c)) {
			static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
			                         "Content-Length: 10\r\nConnection: close\r\n\r\nnot found\n";
			write_all(c, nf, sizeof(nf) - 1);
			close(c);
			continue;
		}
		prom_init(&b, s->mem, s->cap);
		s->render(&b);
		if (b.overflow) {
			static const char err[] = "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n"
			                          "Connection: close\r\n\r\n";
			write_all(c, err, sizeof(err) - 1);
		} else {
			int n = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: " PROM_CONTENT_TYPE
			    "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", b.len);
			write_all(c, head, (size_t)n);
			write_all(c, b.p, b.len);
		}
		close(c);
	}
	return NULL;
}

int
prom_serve(const char *hostport, size_t cap, void (*render)(struct prom_buf *b), char *err,
    size_t errlen)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai;
	struct server *s;
	pthread_t tid;
	int fd, one = 1, rc;

	if (colon == NULL) {
		snprintf(err, errlen, "\"%s\" is not host:port", hostport);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		snprintf(err, errlen, "could not resolve \"%s\": %s", hostport, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "could not listen on \"%s\": %s", hostport, strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->mem = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(s);
		close(fd);
		return -1;
	}
	s->fd = fd;
	s->cap = cap;
	s->render = render;
	rc = pthread_create(&tid, NULL, serve, s);
	if (rc != 0) {
		snprintf(err, errlen, "could not start the metrics thread: %s", strerror(rc));
		free(s->mem);
		free(s);
		close(fd);
		return -1;
	}
	pthread_detach(tid);
	server = s;
	return 0;
}
