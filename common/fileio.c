#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

uint8_t *file_read_all(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st = { 0 };

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		int e = !S_ISREG(st.st_mode) ? EINVAL : (uint64_t)st.st_size > max ? EFBIG : errno;
		close(fd);
		errno = e;
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, got = 0;
	uint8_t *data = xmalloc(cap);
	for (;;) {
		ssize_t r = read(fd, data + got, cap - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && got + (size_t)r > max)) {
			int e = r < 0 ? errno : EFBIG;
			free(data);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == cap)
			data = xreallocarray(data, cap *= 2, 1);
	}
	close(fd);
	*len = got;
	return data;
}

static bool write_full(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		len -= (size_t)w;
	}
	return true;
}

/* Makes a rename inside dir durable. */
static bool fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0;
	int e = errno;
	close(fd);
	errno = e;
	return ok;
}

bool file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") : xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	const char *name = slash ? slash + 1 : path;
	char *tmp = xasprintf("%s/.%s.XXXXXX", dir, name);
	int fd = mkostemp(tmp, O_CLOEXEC);
	bool ok = false;
	int e;

	if (fd >= 0) {
		ok = fchmod(fd, mode) == 0 && write_full(fd, data, len) && fsync(fd) == 0;
		e = errno;
		ok = close(fd) == 0 && ok;
		if (ok)
			ok = rename(tmp, path) == 0 && fsync_dir(dir);
		else
			errno = e;
		e = errno;
		if (!ok)
			unlink(tmp);
		errno = e;
	}
	free(tmp);
	free(dir);
	return ok;
}

/* One step of file_mkdirs. */
static bool mkdir_one(const char *p, mode_t mode, bool real)
{
	struct stat sb;

	if (mkdir(p, mode) == 0)
		return true;
	if (errno != EEXIST || (real ? lstat(p, &sb) : stat(p, &sb)) < 0)
		return false;
	if (!S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		return false;
	}
	return true;
}

bool file_mkdirs(const char *path, mode_t mode, size_t real_from, size_t *failed)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	bool ok = n > 0;
	int e = ENOENT;

	/* Each component ends at a '/' or at the end; "//" and a trailing '/'
	 * add none. */
	for (size_t i = 1; ok && i <= n; i++) {
		if ((p[i] != '/' && p[i] != '\0') || p[i - 1] == '/')
			continue;
		char c = p[i];
		p[i] = '\0';
		ok = mkdir_one(p, mode, i >= real_from);
		e = errno;
		p[i] = c;
		if (!ok && failed)
			*failed = i;
	}
	if (n == 0 && failed)
		*failed = 0;
	free(p);
	errno = e;
	return ok;
}
