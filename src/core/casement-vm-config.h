/* casement-vm-config.h
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

G_BEGIN_DECLS

#define CASEMENT_VM_CONFIG_SCHEMA_VERSION 1

#define CASEMENT_VM_CONFIG_ERROR (casement_vm_config_error_quark ())

typedef enum
{
  CASEMENT_VM_CONFIG_ERROR_PARSE = 1,     /* not JSON, or not an object */
  CASEMENT_VM_CONFIG_ERROR_INVALID,       /* a field has a bad value; the message names the field */
  CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED,   /* schema_version newer than we understand */
} CasementVmConfigError;

/* How a host folder reaches the guest (DESIGN §6). AUTO lets the host
 * probe decide at start time, with a stated reason. */
typedef enum
{
  CASEMENT_SHARE_METHOD_NONE = 0,
  CASEMENT_SHARE_METHOD_AUTO,
  CASEMENT_SHARE_METHOD_VIRTIOFS,
  CASEMENT_SHARE_METHOD_SMB,
  CASEMENT_SHARE_METHOD_WEBDAV,
} CasementShareMethod;

typedef enum
{
  CASEMENT_NETWORK_USER = 0,  /* QEMU user-mode networking (slirp) with a virtio NIC */
  CASEMENT_NETWORK_NONE,
} CasementNetwork;

#define CASEMENT_TYPE_VM_CONFIG (casement_vm_config_get_type ())

G_DECLARE_FINAL_TYPE (CasementVmConfig, casement_vm_config, CASEMENT, VM_CONFIG, GObject)

GQuark               casement_vm_config_error_quark          (void) G_GNUC_CONST;

/* Required strings (name, os_id, disk_path) are never NULL; optional ones
 * are NULL when unset, and setting "" unsets them. */
CasementVmConfig    *casement_vm_config_new                  (const char        *name);
CasementVmConfig    *casement_vm_config_new_from_json        (const char        *json,
                                                              gssize             length,
                                                              GError           **error);
/* load and save block on file I/O: the GUI calls them from a worker thread.
 * save is atomic (temporary file, fsync, rename; mode 0600) and refuses a
 * config that load would reject. */
CasementVmConfig    *casement_vm_config_load                 (GFile             *file,
                                                              GError           **error);
char                *casement_vm_config_to_json              (CasementVmConfig  *self);
gboolean             casement_vm_config_save                 (CasementVmConfig  *self,
                                                              GFile             *file,
                                                              GError           **error);
/* The checks of loading plus those across fields (Windows 11's minimums,
 * share folder and method, kernel and initrd, …). Touches no file. */
gboolean             casement_vm_config_validate             (CasementVmConfig  *self,
                                                              GError           **error);

/* Identity */
const char          *casement_vm_config_get_name             (CasementVmConfig  *self);
void                 casement_vm_config_set_name             (CasementVmConfig  *self,
                                                              const char        *name);
/* libosinfo short id, e.g. "win11", "win10"; anything not starting with
 * "win" is treated as a generic (Linux) guest profile. */
const char          *casement_vm_config_get_os_id            (CasementVmConfig  *self);
void                 casement_vm_config_set_os_id            (CasementVmConfig  *self,
                                                              const char        *os_id);
gboolean             casement_vm_config_is_windows           (CasementVmConfig  *self);

/* Hardware */
guint                casement_vm_config_get_cpus             (CasementVmConfig  *self);
void                 casement_vm_config_set_cpus             (CasementVmConfig  *self,
                                                              guint              cpus);
guint64              casement_vm_config_get_memory_mib       (CasementVmConfig  *self);
void                 casement_vm_config_set_memory_mib       (CasementVmConfig  *self,
                                                              guint64            memory_mib);
/* Relative paths are relative to the VM's folder. */
const char          *casement_vm_config_get_disk_path        (CasementVmConfig  *self);
void                 casement_vm_config_set_disk_path        (CasementVmConfig  *self,
                                                              const char        *disk_path);
guint64              casement_vm_config_get_disk_size        (CasementVmConfig  *self);
void                 casement_vm_config_set_disk_size        (CasementVmConfig  *self,
                                                              guint64            disk_size_bytes);

/* Media: absolute paths or NULL */
const char          *casement_vm_config_get_install_iso      (CasementVmConfig  *self);
void                 casement_vm_config_set_install_iso      (CasementVmConfig  *self,
                                                              const char        *path);
const char          *casement_vm_config_get_drivers_iso      (CasementVmConfig  *self);
void                 casement_vm_config_set_drivers_iso      (CasementVmConfig  *self,
                                                              const char        *path);
/* The generated answer-file medium; relative to the VM folder or NULL. */
const char          *casement_vm_config_get_unattend_media   (CasementVmConfig  *self);
void                 casement_vm_config_set_unattend_media   (CasementVmConfig  *self,
                                                              const char        *path);
/* The WinFsp installer (an absolute path) put on the answer medium for
 * the virtiofs share, or NULL when the medium carries none. */
const char          *casement_vm_config_get_winfsp_installer (CasementVmConfig  *self);
void                 casement_vm_config_set_winfsp_installer (CasementVmConfig  *self,
                                                              const char        *path);
/* TRUE once the guest OS is installed: the install ISO no longer boots first. */
gboolean             casement_vm_config_get_installed        (CasementVmConfig  *self);
void                 casement_vm_config_set_installed        (CasementVmConfig  *self,
                                                              gboolean           installed);

/* Direct kernel boot, for Linux guests and the test guest; NULL when unused. */
const char          *casement_vm_config_get_kernel           (CasementVmConfig  *self);
void                 casement_vm_config_set_kernel           (CasementVmConfig  *self,
                                                              const char        *path);
const char          *casement_vm_config_get_initrd           (CasementVmConfig  *self);
void                 casement_vm_config_set_initrd           (CasementVmConfig  *self,
                                                              const char        *path);
const char          *casement_vm_config_get_kernel_cmdline   (CasementVmConfig  *self);
void                 casement_vm_config_set_kernel_cmdline   (CasementVmConfig  *self,
                                                              const char        *cmdline);

/* Sharing */
const char          *casement_vm_config_get_share_folder     (CasementVmConfig  *self);
void                 casement_vm_config_set_share_folder     (CasementVmConfig  *self,
                                                              const char        *path);
CasementShareMethod  casement_vm_config_get_share_method     (CasementVmConfig  *self);
void                 casement_vm_config_set_share_method     (CasementVmConfig  *self,
                                                              CasementShareMethod method);
gboolean             casement_vm_config_get_share_read_only  (CasementVmConfig  *self);
void                 casement_vm_config_set_share_read_only  (CasementVmConfig  *self,
                                                              gboolean           read_only);

/* Platform security */
gboolean             casement_vm_config_get_tpm              (CasementVmConfig  *self);
void                 casement_vm_config_set_tpm              (CasementVmConfig  *self,
                                                              gboolean           tpm);
gboolean             casement_vm_config_get_secure_boot      (CasementVmConfig  *self);
void                 casement_vm_config_set_secure_boot      (CasementVmConfig  *self,
                                                              gboolean           secure_boot);

/* Network and audio */
CasementNetwork      casement_vm_config_get_network          (CasementVmConfig  *self);
void                 casement_vm_config_set_network          (CasementVmConfig  *self,
                                                              CasementNetwork    network);
/* Host port forwards, each "tcp:HOSTPORT:GUESTPORT" or "udp:HOSTPORT:GUESTPORT". */
const char * const  *casement_vm_config_get_port_forwards    (CasementVmConfig  *self);
void                 casement_vm_config_set_port_forwards    (CasementVmConfig  *self,
                                                              const char * const *forwards);
gboolean             casement_vm_config_get_audio            (CasementVmConfig  *self);
void                 casement_vm_config_set_audio            (CasementVmConfig  *self,
                                                              gboolean           audio);

/* Express install answers. The password is never part of the config:
 * it goes straight onto the answer medium and is gone with it. */
gboolean             casement_vm_config_get_express_install  (CasementVmConfig  *self);
void                 casement_vm_config_set_express_install  (CasementVmConfig  *self,
                                                              gboolean           express);
const char          *casement_vm_config_get_user_name        (CasementVmConfig  *self);
void                 casement_vm_config_set_user_name        (CasementVmConfig  *self,
                                                              const char        *user_name);
const char          *casement_vm_config_get_computer_name    (CasementVmConfig  *self);
void                 casement_vm_config_set_computer_name    (CasementVmConfig  *self,
                                                              const char        *computer_name);
/* BCP 47 tag, e.g. "en-US" */
const char          *casement_vm_config_get_language         (CasementVmConfig  *self);
void                 casement_vm_config_set_language         (CasementVmConfig  *self,
                                                              const char        *language);
/* Windows input locale, e.g. "0409:00000409" or "en-US" */
const char          *casement_vm_config_get_keyboard         (CasementVmConfig  *self);
void                 casement_vm_config_set_keyboard         (CasementVmConfig  *self,
                                                              const char        *keyboard);
const char          *casement_vm_config_get_product_key      (CasementVmConfig  *self);
void                 casement_vm_config_set_product_key      (CasementVmConfig  *self,
                                                              const char        *product_key);

G_END_DECLS
