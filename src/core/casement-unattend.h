/* casement-unattend.h
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

#define CASEMENT_UNATTEND_ERROR (casement_unattend_error_quark ())

typedef enum
{
  CASEMENT_UNATTEND_ERROR_INVALID = 1,   /* an answer Windows Setup would refuse; the message names it */
  CASEMENT_UNATTEND_ERROR_UNSUPPORTED,   /* express install is for Windows 10 and 11 */
} CasementUnattendError;

/* The answer-file medium's name in the VM folder (DESIGN §2). */
#define CASEMENT_UNATTEND_MEDIUM_NAME "unattend.iso"

/* The last thing the express install does is write this file in the
 * guest. The host asks for it over the guest agent (guest-file-open), which
 * virtio-win-guest-tools installs earlier in the same run: when it is
 * there, every step has run, so the install media can go. */
#define CASEMENT_UNATTEND_DONE_MARKER "C:\\ProgramData\\Casement\\install-complete.txt"

/* Answers that come from the install disc or the host rather than from
 * the VM's settings. All optional: a zeroed struct (or NULL) is valid. */
typedef struct
{
  /* The account's display name; NULL: the user name. */
  const char *full_name;
  /* The installer's own language ("en-US", CasementInstallMedia.language):
   * Setup stops when asked for a UI language its disc does not have.
   * NULL: the VM's language. */
  const char *media_language;
  /* The image to install (CasementWindowsImage.index) and its edition id
   * ("Professional"), from casement_install_media_get_default_image().
   * Used only when the VM has no product key: the edition id picks the
   * generic key. 0 / NULL: let the key choose. */
  guint       image_index;
  const char *edition_id;
  /* An IANA zone ("Europe/Berlin"); NULL: the host's. */
  const char *time_zone;
  /* A Windows Recovery Environment partition ahead of Windows (1 GiB). */
  gboolean    recovery_partition;
} CasementUnattendOptions;

GQuark        casement_unattend_error_quark          (void) G_GNUC_CONST;

/* autounattend.xml for an express install of @config's Windows (win10 or
 * win11) with the VM's language, keyboard, user and computer name, its
 * product key if any, and @password for the account. Every answer is
 * checked first; the error names the one Windows would refuse. */
char         *casement_unattend_build                (CasementVmConfig               *config,
                                                      const char                     *password,
                                                      const CasementUnattendOptions  *options,
                                                      GError                        **error);

/* For validating as the user types, with the same messages. */
gboolean      casement_unattend_check_computer_name  (const char                     *name,
                                                      GError                        **error);
gboolean      casement_unattend_check_language       (const char                     *tag,
                                                      GError                        **error);
gboolean      casement_unattend_check_user_name      (const char                     *name,
                                                      GError                        **error);

/* The Windows name of an IANA time zone ("Europe/Berlin" → "W. Europe
 * Standard Time"); "UTC" for zones the table lacks. */
const char   *casement_unattend_windows_time_zone    (const char                     *iana);

/* Writes @xml as autounattend.xml onto a small ISO, @vm_dir/unattend.iso,
 * mode 0600 (it holds the password, obfuscated only), with a copy of
 * @winfsp_installer (a WinFsp MSI; NULL: none) next to it, which the
 * virtiofs set-up at first logon installs. Returns that file. */
void          casement_unattend_write_medium_async   (const char                     *xml,
                                                      GFile                          *winfsp_installer,
                                                      GFile                          *vm_dir,
                                                      GCancellable                   *cancellable,
                                                      GAsyncReadyCallback             callback,
                                                      gpointer                        user_data);
GFile        *casement_unattend_write_medium_finish  (GAsyncResult                   *result,
                                                      GError                        **error);

G_END_DECLS
