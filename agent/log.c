/* The agent's log: one line a message on stderr, written whole. Under
 * systemd, when stderr is the journal's stream (JOURNAL_STREAM names its
 * device and inode), each line starts with its syslog priority as
 * sd-daemon's "<N>" prefix, so that `journalctl -p err` finds the
 * failures; anywhere else the lines carry no prefix. */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "cli.h"

static bool to_journal;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

static void detect_journal(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* systemd sets it to "DEVICE:INODE" of the stream it connected */
	to_journal = s && sscanf(s, "%llu:%llu", &dev, &ino) == 2 &&
		     fstat(STDERR_FILENO, &st) == 0 &&
		     (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
}

void ag_log(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int off, n;

	pthread_once(&journal_once, detect_journal);
	off = to_journal ? snprintf(line, sizeof(line), "<%d>", priority) : 0;
	off += snprintf(line + off, sizeof(line) - off, "%s: ", AG_PROG);
	va_start(ap, fmt);
	n = vsnprintf(line + off, sizeof(line) - off - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n += off;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n] = '\n';
	/* one write a line, so that the workers' lines never interleave */
	fwrite(line, 1, n + 1, stderr);
}
