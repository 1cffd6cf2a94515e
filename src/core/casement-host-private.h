/* casement-host-private.h
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "casement-host.h"

G_BEGIN_DECLS

/* The pieces of the probe that read text or folders, apart from the live
 * machine, so the tests run them on captured fixtures. */

gboolean                  _casement_host_parse_qemu_version      (const char          *output,
                                                                  guint               *major,
                                                                  guint               *minor,
                                                                  guint               *micro);
/* @flags: (out) sorted, from the first processor; @threads: (out) number of processors. */
void                      _casement_host_parse_cpuinfo           (const char          *cpuinfo,
                                                                  CasementCpuVendor   *vendor,
                                                                  char              ***flags,
                                                                  guint               *threads);
guint64                   _casement_host_parse_meminfo           (const char          *meminfo);
/* Device names of `qemu-system-x86_64 -device help`, sorted. */
char                    **_casement_host_parse_device_help       (const char          *output);
/* Driver names of `qemu-system-x86_64 -audiodev help`, sorted. */
char                    **_casement_host_parse_audiodev_help     (const char          *output);

/* Searches the firmware descriptors in @descriptor_dirs (later folders
 * override files of the same name in earlier ones, as QEMU's firmware.json
 * says; the first match in file-name order wins), then, when
 * @known_paths_fallback, the known distribution paths. Every folder and
 * file is looked up below @sysroot ("/" on a live machine); the returned
 * paths include it. */
gboolean                  _casement_host_find_firmware           (const char          *sysroot,
                                                                  const char * const  *descriptor_dirs,
                                                                  gboolean             known_paths_fallback,
                                                                  gboolean             secure_boot,
                                                                  char               **code,
                                                                  char               **vars);

CasementVirtiofsdFlavour  _casement_host_parse_virtiofsd_help    (const char          *help);
/* Runs `@path --help` and tells the flavour from it. */
CasementVirtiofsdFlavour  _casement_host_probe_virtiofsd         (const char          *path,
                                                                  GCancellable        *cancellable);

/* The three checks of KVM on @device; @reason (out) says which one failed. */
gboolean                  _casement_host_check_kvm               (const char          *device,
                                                                  const char * const  *cpu_flags,
                                                                  char               **reason);

/* TRUE when a unix socket at @path accepts a connection. */
gboolean                  _casement_host_socket_is_live          (const char          *path);

/* QEMU 7.2's virtiofsd wants to be root: without root it runs in a user
 * namespace of its own in which this user is root and no one else exists.
 * The maps are written out in the parent, before fork(): formatting is
 * not async-signal-safe. */
typedef struct
{
  char uid_map[32];   /* "0 <uid> 1" */
  char gid_map[32];
} CasementUserns;

void                      _casement_host_userns_init             (CasementUserns      *userns);
/* For a forked child, before exec (both async-signal-safe). The C
 * virtiofsd drops its supplementary groups with setgroups() first thing
 * and exits when that fails, as it does for a user with groups, and in a
 * user namespace made without privileges. This makes setgroups() a
 * successful no-op for the process and what it runs. FALSE with errno
 * set on failure. */
gboolean                  _casement_host_setgroups_noop          (void);
/* Unshares a user and a mount namespace, becomes root in them (mapped to
 * this user) and calls _casement_host_setgroups_noop(). Returns NULL, or
 * the step that failed with errno set. */
const char               *_casement_host_userns_enter            (const CasementUserns *userns);
/* Enters one in a forked child and does there what the C virtiofsd will
 * (setgroups(), its sandbox's namespaces). @reason (out): why not,
 * translated. */
gboolean                  _casement_host_check_user_namespaces   (char               **reason);

G_END_DECLS
