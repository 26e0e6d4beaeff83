/* Proc Own: names of this process's own directory under /proc */
#pragma once

/*
 * What follows "/proc/self/", "/proc/thread-self/" or "/proc/PID/" (PID this
 * process's, written as procfs reads a number) in path, when it begins with
 * one of the NULL-terminated prefixes in wanted; NULL for any other path.
 * getpid() is called only for a numeric PID whose rest is wanted, so other
 * paths under /proc cost no system call.
 */
const char *dn_proc_own(const char *path, const char *const *wanted);
