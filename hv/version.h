/* version.h — the one place fairvisor's version is written. */
#ifndef FV_VERSION_H
#define FV_VERSION_H
#define FV_VERSION "0.1.0"
#endif
