/*
 * Copyright (c) 2026 The Kiln authors. MIT licence; see COPYING.
 *
 * Small file helpers shared by the batteries that touch the disk
 * (template loading, collectstatic, FILE fields): read a whole regular
 * file into an arena with a size limit, create the directories leading
 * to a path, and write a buffer out completely.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <kiln/kiln.h>

#include "kiln_int.h"

kiln_err
kiln__file_read(kiln_arena *a, const char *path, size_t max, kiln_str *out,
    int64_t *mtime_ns)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t n;
	int fd;
	kiln_err rc = KILN_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT || errno == ENOTDIR ? KILN_ENOTFOUND :
							     KILN_EIO;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		goto err;
	if ((uint64_t)sb.st_size > max) {
		rc = KILN_ELIMIT;
		goto err;
	}
	buf = kiln_arena_alloc(a, (size_t)sb.st_size + 1);
	if (buf == NULL) {
		rc = KILN_ENOMEM;
		goto err;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	out->ptr = buf;
	out->len = got;
	if (mtime_ns != NULL)
		*mtime_ns = (int64_t)sb.st_mtim.tv_sec * 1000000000 +
		    sb.st_mtim.tv_nsec;
	close(fd);
	return KILN_OK;
err:
	close(fd);
	return rc;
}

int
kiln__mkdir_parents(char *path)
{
	char *p;

	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

int
kiln__write_all(int fd, const void *p, size_t len)
{
	const char *c = p;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, c + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}
