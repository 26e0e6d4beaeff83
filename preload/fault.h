/* Fault Guard: reading and writing the caller's memory, where a bad pointer gets EFAULT */
#pragma once

#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * A program may hand any call a pointer the kernel would refuse with
 * EFAULT: NULL, garbage, a PROT_NONE or unmapped page. The library reads
 * paths (to route them) and, for Danaus files, reads and writes the
 * caller's buffers itself, where such a pointer would kill the program.
 *
 * Why a signal handler, measured on this project's 2-core VM (one path
 * check in a loop): the plain check 10 ns; the same under a guard
 * (sigsetjmp + a thread-local frame) 14 ns; copying the path first with
 * process_vm_readv on ourselves 1350 ns, more than stat(2) itself
 * (~1000 ns). A cache of validated pages would be cheap but wrong: glibc
 * unmaps and trims memory through internal calls no preload can see.
 *
 * So the caller's memory is touched under a frame: SIGSEGV/SIGBUS in the
 * thread that has a frame armed, at an address in the frame's range,
 * siglongjmps back (no mask saved: the handler is SA_NODEFER with an empty
 * mask, so the mask at the fault is the mask at the jump). Any other fault
 * goes to the program's own handler, or its default, as if we were not
 * there (fault.c interposes sigaction and friends for these two signals).
 */

struct dn_fault_frame {
	sigjmp_buf env;
	uintptr_t lo, hi; /* faults at addresses in [lo, hi) are this frame's */
	struct dn_fault_frame *prev;
};

/* The innermost armed frame of this thread (initial-exec: usable in a signal handler). */
extern __thread struct dn_fault_frame *dn_fault_cur __attribute__((tls_model("initial-exec")));
extern _Atomic bool dn_fault_installed;

/* Installs the handler once (the first guarded access of the process). */
void dn_fault_install(void);

/*
 * No program can map the first page (vm.mmap_min_addr is at least 4096 on
 * every distribution kernel): NULL and small offsets from it are refused
 * without a guard.
 */
static inline bool dn_fault_low(const void *p)
{
	return (uintptr_t)p < 4096;
}

/*
 * p, as the compiler cannot know it: glibc declares most path arguments
 * nonnull, and a test for the NULL a program passes anyway must stay.
 */
static inline const void *dn_fault_opaque(const void *p)
{
	__asm__("" : "+r"(p));
	return p;
}

/* Arms f for [p, p + len); then sigsetjmp(f.env, 0) in the caller's own frame. */
static inline void dn_fault_push(struct dn_fault_frame *f, const void *p, size_t len)
{
	if (!atomic_load_explicit(&dn_fault_installed, memory_order_acquire))
		dn_fault_install();
	f->lo = (uintptr_t)p;
	f->hi = len > UINTPTR_MAX - f->lo ? UINTPTR_MAX : f->lo + len;
	f->prev = dn_fault_cur;
	dn_fault_cur = f;
	atomic_signal_fence(memory_order_seq_cst);
}

/* Disarms f after its accesses went well (a fault already disarmed it). */
static inline void dn_fault_pop(struct dn_fault_frame *f)
{
	atomic_signal_fence(memory_order_seq_cst);
	dn_fault_cur = f->prev;
}

/* A string reaches as far as it reaches: the range a guard over one covers. */
#define DN_FAULT_STRING SIZE_MAX

/*
 * The guarded accesses. Each returns 0 (or a length) or -EFAULT. A NULL
 * pointer with length 0 is fine, as for the kernel.
 */
int dn_fault_copy_in(void *dst, const void *src, size_t n);
int dn_fault_copy_out(void *dst, const void *src, size_t n);
/* Can n bytes at p be read / written? (one access per page; writing changes nothing) */
int dn_fault_readable(const void *p, size_t n);
int dn_fault_writable(void *p, size_t n);
/*
 * How many of the n bytes at p, from the first on, can be read (write:
 * written): access is granted per page, so the answer ends at a page
 * boundary, or at n.
 */
size_t dn_fault_prefix(const void *p, size_t n, bool write);
/*
 * dn_fault_copy_in/out for a buffer that may stop being accessible part
 * way, as read(2) and write(2) take it: all n bytes, or else the leading
 * part that can be accessed, its length returned; -EFAULT when none can.
 * The common case is one guarded memcpy.
 */
ssize_t dn_fault_copy_in_prefix(void *dst, const void *src, size_t n);
ssize_t dn_fault_copy_out_prefix(void *dst, const void *src, size_t n);
/*
 * Copies the string src into dst (size max, NUL-terminated): its length,
 * -EFAULT, or -ENAMETOOLONG when no NUL comes within max bytes.
 */
long dn_fault_strcpy_in(char *dst, const char *src, size_t max);
