/* casement-media.h
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

#define CASEMENT_MEDIA_ERROR (casement_media_error_quark ())

typedef enum
{
  CASEMENT_MEDIA_ERROR_UNREADABLE = 1,   /* missing, a folder, no permission, I/O error */
  CASEMENT_MEDIA_ERROR_NOT_ISO,          /* no ISO 9660 volume descriptor */
  CASEMENT_MEDIA_ERROR_NOT_BOOTABLE,     /* an ISO without an El Torito boot record */
  CASEMENT_MEDIA_ERROR_NOT_WINDOWS,      /* another system's installer, or no installer at all */
  CASEMENT_MEDIA_ERROR_NOT_X86_64,       /* Windows for 32-bit x86 or ARM */
  CASEMENT_MEDIA_ERROR_NOT_VIRTIO_WIN,   /* has none of the virtio-win driver folders */
  CASEMENT_MEDIA_ERROR_UNSUPPORTED,      /* a Windows for which virtio-win has no drivers */
} CasementMediaError;

/* One image of a Windows installation disc (sources/install.wim or .esd). */
typedef struct
{
  guint  index;        /* 1-based, as Setup's /IMAGE/INDEX */
  char  *name;         /* "Windows 11 Pro" */
  char  *edition_id;   /* "Professional", "Core", "EnterpriseEval", …; NULL when unknown */
  char  *language;     /* default language, "en-US"; NULL when unknown */
  char  *architecture; /* "x86_64", "i686", "aarch64"; NULL when unknown */
  guint  build;        /* 22631; 0 when the image does not say */
  guint  is_server : 1;
} CasementWindowsImage;

/* What a Windows installation ISO is, as far as libosinfo and the disc's
 * own image list tell. */
typedef struct
{
  char      *path;
  char      *os_id;               /* libosinfo short id: "win11", "win10", "win2k22", … */
  char      *name;                /* "Microsoft Windows 11" */
  char      *version;             /* "11.0", "10.0" (libosinfo's), or the build "10.0.22631" */
  char      *architecture;        /* always "x86_64": anything else is an error */
  char      *volume_id;           /* "CCCOMA_X64FRE_EN-US_DV9" */
  char      *edition;             /* libosinfo variant ("enterprise") when the label names one, else NULL */
  char      *language;            /* the installer's language, "en-US", when known */
  guint      min_cpus;            /* libosinfo's minimum resources; 0 when it has none */
  guint64    min_ram;             /* bytes */
  guint64    min_storage;         /* bytes */
  guint      recommended_cpus;    /* libosinfo's recommendation, or the minimum when it has none */
  guint64    recommended_ram;
  guint64    recommended_storage;
  GPtrArray *images;              /* of CasementWindowsImage; empty when the disc's list is unreadable */
  char      *warning;             /* translated; set when Casement had to guess the version */
  gboolean   is_windows;
} CasementInstallMedia;

/* The virtio-win driver disc, checked by its content for one Windows. */
typedef struct
{
  char      *path;
  char      *version;             /* "0.1.262" from the volume label; NULL when it has none */
  char      *os_dir;              /* the driver folder checked for: "w11", "w10", "2k22", … */
  char     **present;             /* required drivers found (with an .inf) for os_dir or their fallback */
  char     **missing;             /* required drivers not found */
  char     **fallbacks;           /* drivers found only for an older Windows, e.g. qxldod in w10 */
  gboolean   has_guest_tools;     /* virtio-win-guest-tools.exe at the root */
  gboolean   has_winfsp;          /* a WinFsp installer (winfsp*.msi) at the root, for virtiofs */
  char      *problem;             /* translated: what is missing and where to get a good disc; NULL when complete */
  char      *note;                /* translated: fallbacks in use; NULL when none */
} CasementDriverMedia;

#define CASEMENT_TYPE_INSTALL_MEDIA (casement_install_media_get_type ())
#define CASEMENT_TYPE_DRIVER_MEDIA  (casement_driver_media_get_type ())

GQuark                       casement_media_error_quark               (void) G_GNUC_CONST;

GType                        casement_install_media_get_type          (void) G_GNUC_CONST;
CasementInstallMedia        *casement_install_media_copy              (const CasementInstallMedia  *media);
void                         casement_install_media_free              (CasementInstallMedia        *media);
/* The image express install picks when the user gives no product key:
 * Pro when the disc has it, else the first. NULL when the list is unknown. */
const CasementWindowsImage  *casement_install_media_get_default_image (const CasementInstallMedia  *media);

GType                        casement_driver_media_get_type           (void) G_GNUC_CONST;
CasementDriverMedia         *casement_driver_media_copy               (const CasementDriverMedia   *media);
void                         casement_driver_media_free               (CasementDriverMedia         *media);

/* "Windows 11" for "win11", translated; @os_id itself when unknown. */
const char                  *casement_media_get_os_name               (const char                  *os_id);
/* The virtio-win folder for a libosinfo short id ("win11" → "w11"); NULL
 * when virtio-win has no drivers for it. */
const char                  *casement_media_virtio_os_dir             (const char                  *os_id);
/* The older folder a driver may fall back to when virtio-win ships none
 * for @os_id ("qxldod", "win11" → "w10"); NULL when it may not. */
const char                  *casement_media_virtio_fallback_dir       (const char                  *driver,
                                                                       const char                  *os_id);
/* The drivers the express install loads during Windows Setup and after it,
 * spelled as virtio-win's folders: viostor, NetKVM, viofs, Balloon, … */
const char * const          *casement_media_get_required_drivers      (void);

/* Identifies a Windows installation ISO. Reads the disc in a worker
 * thread; the blocking variant is for worker threads and tools. */
void                         casement_media_detect_install_async      (GFile                       *iso,
                                                                       GCancellable                *cancellable,
                                                                       GAsyncReadyCallback          callback,
                                                                       gpointer                     user_data);
CasementInstallMedia        *casement_media_detect_install_finish     (GAsyncResult                *result,
                                                                       GError                     **error);
CasementInstallMedia        *casement_media_detect_install            (GFile                       *iso,
                                                                       GCancellable                *cancellable,
                                                                       GError                     **error);

/* Checks that @iso is a virtio-win disc with the drivers for @os_id. An
 * error only when it is not one at all; missing pieces are in the result. */
void                         casement_media_check_drivers_async       (GFile                       *iso,
                                                                       const char                  *os_id,
                                                                       GCancellable                *cancellable,
                                                                       GAsyncReadyCallback          callback,
                                                                       gpointer                     user_data);
CasementDriverMedia         *casement_media_check_drivers_finish      (GAsyncResult                *result,
                                                                       GError                     **error);
CasementDriverMedia         *casement_media_check_drivers             (GFile                       *iso,
                                                                       const char                  *os_id,
                                                                       GCancellable                *cancellable,
                                                                       GError                     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CasementInstallMedia, casement_install_media_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CasementDriverMedia, casement_driver_media_free)

G_END_DECLS
