/* casement-host.h
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

#define CASEMENT_HOST_ERROR (casement_host_error_quark ())

typedef enum
{
  CASEMENT_HOST_ERROR_NO_QEMU = 1,   /* no usable qemu-system-x86_64 */
  CASEMENT_HOST_ERROR_PARSE,         /* probe output or JSON not understood */
} CasementHostError;

typedef enum
{
  CASEMENT_CPU_VENDOR_UNKNOWN = 0,
  CASEMENT_CPU_VENDOR_INTEL,
  CASEMENT_CPU_VENDOR_AMD,
} CasementCpuVendor;

typedef enum
{
  CASEMENT_VIRTIOFSD_NONE = 0,
  CASEMENT_VIRTIOFSD_RUST,     /* --shared-dir, runs unprivileged with --sandbox none|namespace */
  CASEMENT_VIRTIOFSD_LEGACY_C, /* QEMU <= 7.2's C helper: -o source=, needs root or a user namespace */
} CasementVirtiofsdFlavour;

#define CASEMENT_TYPE_HOST (casement_host_get_type ())

G_DECLARE_FINAL_TYPE (CasementHost, casement_host, CASEMENT, HOST, GObject)

GQuark                    casement_host_error_quark             (void) G_GNUC_CONST;

/* Probing runs subprocesses (qemu -device help, …): never on the main thread
 * of a GUI; use the async variant there. */
CasementHost             *casement_host_probe                   (GCancellable  *cancellable,
                                                                 GError       **error);
void                      casement_host_probe_async             (GCancellable  *cancellable,
                                                                 GAsyncReadyCallback callback,
                                                                 gpointer       user_data);
CasementHost             *casement_host_probe_finish            (GAsyncResult  *result,
                                                                 GError       **error);

/* A host description captured with casement_host_to_json() (and
 * `casementctl host --json`); the argv golden tests are built on these. */
CasementHost             *casement_host_new_from_json           (const char    *json,
                                                                 GError       **error);
char                     *casement_host_to_json                 (CasementHost  *self);

const char               *casement_host_get_qemu_path           (CasementHost  *self);
const char               *casement_host_get_qemu_img_path       (CasementHost  *self);
void                      casement_host_get_qemu_version        (CasementHost  *self,
                                                                 guint         *major,
                                                                 guint         *minor,
                                                                 guint         *micro);
gboolean                  casement_host_qemu_version_at_least   (CasementHost  *self,
                                                                 guint          major,
                                                                 guint          minor);

/* KVM usable means: /dev/kvm opens read-write, KVM_CREATE_VM succeeds and the
 * CPU flags show vmx or svm. When not, the reason says which failed. */
gboolean                  casement_host_get_kvm_usable          (CasementHost  *self);
const char               *casement_host_get_kvm_reason          (CasementHost  *self);

CasementCpuVendor         casement_host_get_cpu_vendor          (CasementHost  *self);
gboolean                  casement_host_has_cpu_flag            (CasementHost  *self,
                                                                 const char    *flag);
guint                     casement_host_get_cpu_threads         (CasementHost  *self);
/* vCPUs for a new VM: half the host threads, at least 2, at most 8. */
guint                     casement_host_get_default_cpus        (CasementHost  *self);
guint64                   casement_host_get_memory_mib          (CasementHost  *self);

gboolean                  casement_host_has_device              (CasementHost  *self,
                                                                 const char    *device);
gboolean                  casement_host_has_audiodev            (CasementHost  *self,
                                                                 const char    *driver);
/* The -audiodev driver to use: "pipewire" or "pa" when the binary has it and
 * a sound server answers, else "spice" (sound then plays through the client). */
const char               *casement_host_get_audio_driver        (CasementHost  *self);

/* OVMF firmware, found through the JSON descriptors in /usr/share/qemu/firmware first.
 * With secure_boot the Microsoft-keys build (CODE needs smm=on). NULL when absent. */
const char               *casement_host_get_firmware_code       (CasementHost  *self,
                                                                 gboolean       secure_boot);
const char               *casement_host_get_firmware_vars       (CasementHost  *self,
                                                                 gboolean       secure_boot);

const char               *casement_host_get_swtpm_path          (CasementHost  *self);
const char               *casement_host_get_virtiofsd_path      (CasementHost  *self);
CasementVirtiofsdFlavour  casement_host_get_virtiofsd_flavour   (CasementHost  *self);
/* TRUE when the found virtiofsd can run for us: the Rust one always, the
 * legacy C helper when we are root or can make a user namespace. */
gboolean                  casement_host_get_virtiofsd_usable    (CasementHost  *self);
/* Whether this user can make a user namespace in which it is root (tried
 * out, not guessed from sysctls): how the C helper runs without root. The
 * reason says why not, translated; NULL when it can. */
gboolean                  casement_host_get_userns_usable       (CasementHost  *self);
const char               *casement_host_get_userns_reason       (CasementHost  *self);
/* TRUE when the virtiofsd is to run in a user namespace: the C helper,
 * usable, and we are not root. */
gboolean                  casement_host_get_virtiofsd_userns    (CasementHost  *self);
const char               *casement_host_get_smbd_path           (CasementHost  *self);

/* One translated sentence per problem found (no KVM, no swtpm, …), each
 * saying what it means and what to do. Empty when all is well. */
char                    **casement_host_dup_problems            (CasementHost  *self);

G_END_DECLS
