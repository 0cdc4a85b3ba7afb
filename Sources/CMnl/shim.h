// The only C that hostgw sees: libmnl and the kernel's rtnetlink UAPI headers.
// Imported internally by the Netlink module and by nothing else.
#ifndef HOSTGW_CMNL_SHIM_H
#define HOSTGW_CMNL_SHIM_H

// No _GNU_SOURCE here: it renames glibc struct members (fd_set.fds_bits) and then clashes with
// the Swift Glibc module's view of the same headers. setns is declared by hand instead.
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/fib_rules.h>

// setns(2) for a network namespace; the Glibc overlay does not always expose it.
extern int setns(int fd, int nstype);
static inline int hgw_setns_net(int fd) { return setns(fd, 0x40000000 /* CLONE_NEWNET */); }

// recvmmsg(2) collects many acks per syscall; glibc only declares it under _GNU_SOURCE (see
// above), so the kernel's struct mmsghdr layout is spelled out and the syscall made directly.
#include <unistd.h>
#include <sys/syscall.h>
struct hgw_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};
static inline int hgw_recvmmsg(int fd, struct hgw_mmsghdr *vec, unsigned int vlen, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, vec, vlen, flags, (void *)0);
}
#define HGW_MSG_WAITFORONE 0x10000

#endif
