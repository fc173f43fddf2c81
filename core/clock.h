/* SPDX-License-Identifier: MIT */
#ifndef DEN_CORE_CLOCK_H
#define DEN_CORE_CLOCK_H

/* CLOCK_MONOTONIC in milliseconds: for deadlines and durations, never the wall clock. */
long long den_now_ms(void);

#endif
