// The only C that hostgw sees: libmnl and the kernel's rtnetlink UAPI headers.
// Imported internally by the Netlink module and by nothing else.
#ifndef HOSTGW_CMNL_SHIM_H
#define HOSTGW_CMNL_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>

// setns(2) for a network namespace; the Glibc overlay does not always expose it.
static inline int hgw_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

#endif
