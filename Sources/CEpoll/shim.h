// Linux-only headers that Swift's Glibc module does not expose.
// Never define _GNU_SOURCE here: it changes glibc's structs for the whole build.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

// accept4 is a GNU extension; declare it rather than enable _GNU_SOURCE.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
