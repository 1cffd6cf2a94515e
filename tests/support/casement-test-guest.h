/* casement-test-guest.h
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

#include <gio/gio.h>

#include "casement-vm-config.h"

G_BEGIN_DECLS

/* The tiny Linux test guest (tests/guest/): a Debian kernel and a busybox
 * initramfs whose /init reports what it sees over the serial port, one
 * line per fact ("TG: ready …", "GOT:<typed line>", "EV event1 type=…",
 * "TG: cd sr0 label=…"; the full list heads tests/guest/init). All calls
 * here are synchronous: they are for test programs only. */

#define CASEMENT_TEST_GUEST_ERROR (casement_test_guest_error_quark ())

typedef enum
{
  CASEMENT_TEST_GUEST_ERROR_BUILD = 1,   /* the builder script failed; the message holds its stderr */
  CASEMENT_TEST_GUEST_ERROR_ENVIRONMENT, /* the private XDG folders could not be put in place */
} CasementTestGuestError;

/* A private XDG_DATA_HOME and XDG_RUNTIME_DIR in a fresh temporary folder,
 * removed with everything in it when freed, or, when the test aborted
 * instead, by the next test program that makes one. GLib reads those
 * variables once per process, so make it once, in main() right after
 * g_test_init() (before anything asks for the XDG folders, and before
 * threads exist: setenv() is not thread-safe), and free it after
 * g_test_run(); the variables go on naming the removed folder. Child
 * processes inherit them. Do not combine it with
 * G_TEST_OPTION_ISOLATE_DIRS. */
typedef struct _CasementTestGuestEnv CasementTestGuestEnv;

GQuark                 casement_test_guest_error_quark  (void) G_GNUC_CONST;

/* Builds the guest (tests/guest/build-test-guest) or finds it in the
 * cache, once per process; later calls return the same answer. @kernel
 * and @initrd (each optional) receive newly allocated paths. The first
 * build downloads a kernel package; call this in main() before
 * g_test_run(), where HOME and XDG_CACHE_HOME still point at the real
 * cache. */
gboolean               casement_test_guest_ensure       (char                 **kernel,
                                                         char                 **initrd,
                                                         GError               **error);

/* A config for the test guest: generic (Linux) profile, 1 CPU, 512 MiB,
 * a 64 MiB virtio disk, no TPM, no Secure Boot (OVMF with Microsoft's
 * keys refuses to start a kernel without shim), no audio, no network, no
 * express install, and the kernel command line
 * "console=ttyS0 tg.mode=@mode @extra_cmdline". @mode is "idle", "anim",
 * "pattern" or "cursor" (qxl DRM driver, a hardware cursor).
 * casement_test_guest_ensure() must have succeeded first. */
CasementVmConfig      *casement_test_guest_config_new   (const char            *name,
                                                         const char            *mode,
                                                         const char            *extra_cmdline);

/* Waits until a line of @serial_log_path matches @needle_regex (searched
 * anywhere in the line; '\r' stripped) or @timeout_ms pass. The whole
 * file is searched, from its first line. The file may appear later; the
 * thread-default main context keeps running meanwhile. On a timeout the
 * error (G_IO_ERROR_TIMED_OUT) quotes the log's last lines. */
gboolean               casement_test_guest_wait_serial  (const char            *serial_log_path,
                                                         const char            *needle_regex,
                                                         guint                  timeout_ms,
                                                         char                 **matched_line,
                                                         GError               **error);

CasementTestGuestEnv  *casement_test_guest_env_new      (GError               **error);
/* The temporary folder: holds data/ (XDG_DATA_HOME) and run/
 * (XDG_RUNTIME_DIR); a test may keep scratch files in it too. */
const char            *casement_test_guest_env_get_dir  (CasementTestGuestEnv  *env);
void                   casement_test_guest_env_free     (CasementTestGuestEnv  *env);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CasementTestGuestEnv, casement_test_guest_env_free)

G_END_DECLS
