/* casement-media.c
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

#define G_LOG_DOMAIN "casement-media"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <osinfo/osinfo.h>

#include "casement-iso.h"
#include "casement-media.h"

/* The image list of a Windows disc is a few KiB of XML per edition. */
#define MAX_WIM_XML_SIZE  (16 * 1024 * 1024)
#define WIM_HEADER_SIZE   208

/* Where to send someone whose virtio-win disc is missing or wrong. */
#define GET_VIRTIO_WIN_HINT \
  N_("Get virtio-win.iso from the Fedora project’s virtio-win downloads (the “stable-virtio” folder).")

G_DEFINE_QUARK (casement-media-error-quark, casement_media_error)

G_DEFINE_BOXED_TYPE (CasementInstallMedia, casement_install_media,
                     casement_install_media_copy, casement_install_media_free)
G_DEFINE_BOXED_TYPE (CasementDriverMedia, casement_driver_media,
                     casement_driver_media_copy, casement_driver_media_free)

static const char * const required_drivers[] = {
  "viostor",    /* the virtio-blk system disk: Setup sees no disk without it */
  "NetKVM",
  "viofs",
  "Balloon",
  "vioserial",  /* the SPICE agent and guest agent channels */
  "qxldod",     /* the display that follows window resizes */
  NULL
};

static const struct {
  const char *os_id;
  const char *dir;
  const char *qxldod_fallback;  /* virtio-win stopped building qxldod for newer systems */
} virtio_dirs[] = {
  { "win11", "w11", "w10" },
  { "win10", "w10", NULL },
  { "win2k25", "2k25", "2k19" },
  { "win2k22", "2k22", "2k19" },
  { "win2k19", "2k19", "2k16" },
  { "win2k16", "2k16", NULL },
};

/* Windows builds, as the disc's image list gives them, to libosinfo ids. */
static const struct {
  guint       first_build;
  gboolean    server;
  const char *os_id;
} windows_builds[] = {
  { 26100, TRUE, "win2k25" },
  { 20348, TRUE, "win2k22" },
  { 17763, TRUE, "win2k19" },
  { 14393, TRUE, "win2k16" },
  { 22000, FALSE, "win11" },
  { 10240, FALSE, "win10" },
};

static GMutex osinfo_lock;

const char * const *
casement_media_get_required_drivers (void)
{
  return required_drivers;
}

const char *
casement_media_virtio_os_dir (const char *os_id)
{
  g_return_val_if_fail (os_id != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (virtio_dirs); i++)
    if (g_str_equal (virtio_dirs[i].os_id, os_id))
      return virtio_dirs[i].dir;

  return NULL;
}

const char *
casement_media_virtio_fallback_dir (const char *driver,
                                    const char *os_id)
{
  g_return_val_if_fail (driver != NULL, NULL);
  g_return_val_if_fail (os_id != NULL, NULL);

  if (g_ascii_strcasecmp (driver, "qxldod") != 0)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (virtio_dirs); i++)
    if (g_str_equal (virtio_dirs[i].os_id, os_id))
      return virtio_dirs[i].qxldod_fallback;

  return NULL;
}

/* ---- Boxed types ------------------------------------------------------- */

static void
windows_image_free (CasementWindowsImage *image)
{
  g_free (image->name);
  g_free (image->edition_id);
  g_free (image->language);
  g_free (image->architecture);
  g_free (image);
}

static CasementWindowsImage *
windows_image_copy (const CasementWindowsImage *image,
                    gpointer                    unused)
{
  CasementWindowsImage *copy = g_memdup2 (image, sizeof *image);

  copy->name = g_strdup (image->name);
  copy->edition_id = g_strdup (image->edition_id);
  copy->language = g_strdup (image->language);
  copy->architecture = g_strdup (image->architecture);

  return copy;
}

static CasementInstallMedia *
install_media_new (void)
{
  CasementInstallMedia *media = g_new0 (CasementInstallMedia, 1);

  media->images = g_ptr_array_new_with_free_func ((GDestroyNotify) windows_image_free);
  return media;
}

CasementInstallMedia *
casement_install_media_copy (const CasementInstallMedia *media)
{
  CasementInstallMedia *copy;

  g_return_val_if_fail (media != NULL, NULL);

  copy = g_memdup2 (media, sizeof *media);
  copy->path = g_strdup (media->path);
  copy->os_id = g_strdup (media->os_id);
  copy->name = g_strdup (media->name);
  copy->version = g_strdup (media->version);
  copy->architecture = g_strdup (media->architecture);
  copy->volume_id = g_strdup (media->volume_id);
  copy->edition = g_strdup (media->edition);
  copy->language = g_strdup (media->language);
  copy->warning = g_strdup (media->warning);
  copy->images = g_ptr_array_copy (media->images, (GCopyFunc) windows_image_copy, NULL);
  g_ptr_array_set_free_func (copy->images, (GDestroyNotify) windows_image_free);

  return copy;
}

void
casement_install_media_free (CasementInstallMedia *media)
{
  if (media == NULL)
    return;

  g_free (media->path);
  g_free (media->os_id);
  g_free (media->name);
  g_free (media->version);
  g_free (media->architecture);
  g_free (media->volume_id);
  g_free (media->edition);
  g_free (media->language);
  g_free (media->warning);
  g_clear_pointer (&media->images, g_ptr_array_unref);
  g_free (media);
}

const CasementWindowsImage *
casement_install_media_get_default_image (const CasementInstallMedia *media)
{
  g_return_val_if_fail (media != NULL, NULL);

  if (media->images->len == 0)
    return NULL;

  for (guint i = 0; i < media->images->len; i++)
    {
      const CasementWindowsImage *image = g_ptr_array_index (media->images, i);

      if (g_strcmp0 (image->edition_id, "Professional") == 0)
        return image;
    }

  return g_ptr_array_index (media->images, 0);
}

CasementDriverMedia *
casement_driver_media_copy (const CasementDriverMedia *media)
{
  CasementDriverMedia *copy;

  g_return_val_if_fail (media != NULL, NULL);

  copy = g_memdup2 (media, sizeof *media);
  copy->path = g_strdup (media->path);
  copy->version = g_strdup (media->version);
  copy->os_dir = g_strdup (media->os_dir);
  copy->present = g_strdupv (media->present);
  copy->missing = g_strdupv (media->missing);
  copy->fallbacks = g_strdupv (media->fallbacks);
  copy->problem = g_strdup (media->problem);
  copy->note = g_strdup (media->note);

  return copy;
}

void
casement_driver_media_free (CasementDriverMedia *media)
{
  if (media == NULL)
    return;

  g_free (media->path);
  g_free (media->version);
  g_free (media->os_dir);
  g_strfreev (media->present);
  g_strfreev (media->missing);
  g_strfreev (media->fallbacks);
  g_free (media->problem);
  g_free (media->note);
  g_free (media);
}

/* ---- Opening a disc ---------------------------------------------------- */

/* Turns the reader's errors into the ones the wizard shows. */
static CasementIso *
open_iso (GFile         *file,
          const char    *hint,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = g_file_get_parse_name (file);
  CasementIso *iso;

  if ((iso = casement_iso_open (file, cancellable, &local_error)))
    return iso;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&local_error));
  else if (g_error_matches (local_error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_ISO))
    g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_ISO,
                 _("“%s” is not a disc image (ISO): it has no ISO 9660 volume descriptor. %s"),
                 name, hint);
  else if (local_error->domain == CASEMENT_ISO_ERROR)
    g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE,
                 "%s %s", local_error->message, hint);
  else
    g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE,
                 _("Cannot read “%s”: %s. Check that the file exists and that you may read it. %s"),
                 name, local_error->message, hint);

  return NULL;
}

/* A damaged disc found while reading past its descriptors is, for the
 * wizard, an unreadable one. */
static void
propagate_read_error (GError **error,
                      GError  *read_error)
{
  if (read_error->domain == CASEMENT_ISO_ERROR)
    {
      g_set_error_literal (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNREADABLE, read_error->message);
      g_error_free (read_error);
    }
  else
    {
      g_propagate_error (error, read_error);
    }
}

/* ---- The Windows image list (install.wim / install.esd) ----------------- */

typedef struct
{
  GPtrArray            *images;
  CasementWindowsImage *current;
  GPtrArray            *stack;   /* element names, outermost first */
} WimXmlParser;

static gboolean
wim_path_is (WimXmlParser *parser,
             const char   *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);
  guint n = g_strv_length (parts);

  if (parser->stack->len != n)
    return FALSE;

  for (guint i = 0; i < n; i++)
    if (!g_str_equal (g_ptr_array_index (parser->stack, i), parts[i]))
      return FALSE;

  return TRUE;
}

static void
wim_start_element (GMarkupParseContext  *context,
                   const char           *element_name,
                   const char          **attribute_names,
                   const char          **attribute_values,
                   gpointer              user_data,
                   GError              **error)
{
  WimXmlParser *parser = user_data;

  g_ptr_array_add (parser->stack, g_strdup (element_name));

  if (wim_path_is (parser, "WIM/IMAGE"))
    {
      guint64 index = 0;

      for (guint i = 0; attribute_names[i] != NULL; i++)
        if (g_str_equal (attribute_names[i], "INDEX"))
          g_ascii_string_to_unsigned (attribute_values[i], 10, 1, G_MAXUINT, &index, NULL);

      parser->current = g_new0 (CasementWindowsImage, 1);
      parser->current->index = (guint) index;
      g_ptr_array_add (parser->images, parser->current);
    }
}

static void
wim_end_element (GMarkupParseContext  *context,
                 const char           *element_name,
                 gpointer              user_data,
                 GError              **error)
{
  WimXmlParser *parser = user_data;

  if (wim_path_is (parser, "WIM/IMAGE"))
    parser->current = NULL;

  g_ptr_array_remove_index (parser->stack, parser->stack->len - 1);
}

static void
wim_text (GMarkupParseContext  *context,
          const char           *text,
          gsize                 text_len,
          gpointer              user_data,
          GError              **error)
{
  WimXmlParser *parser = user_data;
  CasementWindowsImage *image = parser->current;
  g_autofree char *value = NULL;

  if (image == NULL)
    return;

  value = g_strstrip (g_strndup (text, text_len));
  if (value[0] == '\0')
    return;

  if (wim_path_is (parser, "WIM/IMAGE/NAME"))
    {
      g_free (image->name);
      image->name = g_steal_pointer (&value);
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/EDITIONID"))
    {
      g_free (image->edition_id);
      image->edition_id = g_steal_pointer (&value);
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/INSTALLATIONTYPE"))
    {
      image->is_server = g_str_has_prefix (value, "Server");
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/VERSION/BUILD"))
    {
      guint64 build = 0;

      if (g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT, &build, NULL))
        image->build = (guint) build;
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/ARCH"))
    {
      /* PROCESSOR_ARCHITECTURE_* values */
      static const struct { const char *code; const char *arch; } arches[] = {
        { "0", "i686" }, { "5", "armv7l" }, { "9", "x86_64" }, { "12", "aarch64" },
      };

      for (guint i = 0; i < G_N_ELEMENTS (arches); i++)
        if (g_str_equal (value, arches[i].code))
          {
            g_free (image->architecture);
            image->architecture = g_strdup (arches[i].arch);
          }
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/LANGUAGES/DEFAULT"))
    {
      g_free (image->language);
      image->language = g_steal_pointer (&value);
    }
  else if (wim_path_is (parser, "WIM/IMAGE/WINDOWS/LANGUAGES/LANGUAGE") && image->language == NULL)
    {
      image->language = g_steal_pointer (&value);
    }
}

static guint64
read_le64 (const guint8 *p)
{
  guint64 value = 0;

  for (guint i = 0; i < 8; i++)
    value |= (guint64) p[i] << (8 * i);

  return value;
}

/* Windows Setup installs one of the images in sources/install.wim (or the
 * compressed install.esd); its XML list says which Windows each one is.
 * The list is stored uncompressed, as UTF-16, wherever the header says. */
static gboolean
read_wim_images (CasementIso   *iso,
                 GPtrArray     *images,
                 GCancellable  *cancellable,
                 GError       **error)
{
  static const char * const candidates[] = {
    "sources/install.wim", "sources/install.esd", "sources/install.swm",
  };
  static const GMarkupParser markup_parser = {
    wim_start_element, wim_end_element, wim_text, NULL, NULL,
  };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GBytes) xml = NULL;
  g_autofree char *text = NULL;
  WimXmlParser parser = { images, NULL, stack };
  const char *path = NULL;
  const guint8 *data;
  const char *start;
  guint64 xml_size;
  guint64 xml_offset;

  for (guint i = 0; i < G_N_ELEMENTS (candidates) && path == NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean is_dir = TRUE;

      if (casement_iso_query (iso, candidates[i], &is_dir, NULL, cancellable, &local_error))
        {
          if (!is_dir)
            path = candidates[i];
        }
      else if (!g_error_matches (local_error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  if (path == NULL)
    return TRUE;

  if (!(header = casement_iso_read (iso, path, 0, WIM_HEADER_SIZE, cancellable, error)))
    return FALSE;

  data = g_bytes_get_data (header, NULL);
  if (g_bytes_get_size (header) < WIM_HEADER_SIZE || memcmp (data, "MSWIM\0\0\0", 8) != 0)
    {
      g_debug ("%s is not a WIM file", path);
      return TRUE;
    }

  /* The XML resource header: 7 bytes of size, a flags byte, the offset. */
  xml_size = read_le64 (data + 72) & G_GUINT64_CONSTANT (0x00FFFFFFFFFFFFFF);
  xml_offset = read_le64 (data + 80);
  if (xml_size < 2 || xml_size > MAX_WIM_XML_SIZE)
    {
      g_debug ("%s has no usable image list (%" G_GUINT64_FORMAT " bytes)", path, xml_size);
      return TRUE;
    }

  if (!(xml = casement_iso_read (iso, path, xml_offset, xml_size, cancellable, error)))
    return FALSE;

  if (!(text = g_convert (g_bytes_get_data (xml, NULL), g_bytes_get_size (xml) & ~(gsize) 1,
                          "UTF-8", "UTF-16LE", NULL, NULL, NULL)))
    {
      g_debug ("The image list of %s is not UTF-16", path);
      return TRUE;
    }

  start = text;
  if (g_str_has_prefix (start, "\xEF\xBB\xBF"))
    start += 3;

  context = g_markup_parse_context_new (&markup_parser, G_MARKUP_IGNORE_QUALIFIED, &parser, NULL);
  if (!g_markup_parse_context_parse (context, start, -1, NULL) ||
      !g_markup_parse_context_end_parse (context, NULL))
    {
      g_debug ("The image list of %s is not well-formed XML", path);
      g_ptr_array_set_size (images, 0);
    }

  return TRUE;
}

/* ---- Windows installation discs ---------------------------------------- */

static OsinfoDb *
get_osinfo_db (void)
{
  static OsinfoDb *db;

  /* Called with osinfo_lock held: libosinfo objects are not thread-safe. */
  if (db == NULL)
    {
      g_autoptr(OsinfoLoader) loader = osinfo_loader_new ();
      g_autoptr(GError) error = NULL;

      /* A broken file in a local override folder must not hide the
       * system database: keep what loaded. */
      osinfo_loader_process_default_path (loader, &error);
      if (error != NULL)
        g_warning ("Loading the osinfo database: %s", error->message);

      db = g_object_ref (osinfo_loader_get_db (loader));
    }

  return db;
}

static OsinfoOs *
find_os (OsinfoDb   *db,
         const char *short_id)
{
  g_autoptr(OsinfoOsList) list = osinfo_db_get_os_list (db);
  guint n = osinfo_list_get_length (OSINFO_LIST (list));

  for (guint i = 0; i < n; i++)
    {
      OsinfoOs *os = OSINFO_OS (osinfo_list_get_nth (OSINFO_LIST (list), i));

      if (g_strcmp0 (osinfo_product_get_short_id (OSINFO_PRODUCT (os)), short_id) == 0)
        return os;
    }

  return NULL;
}

static gboolean
os_is_windows (OsinfoOs *os)
{
  return g_strcmp0 (osinfo_os_get_family (os), "winnt") == 0 ||
         g_strcmp0 (osinfo_os_get_distro (os), "win") == 0;
}

/* Short ids of every OS whose media entries this disc matches: one
 * osinfo-db label can belong to several Windows versions. */
static GPtrArray *
matching_os_ids (OsinfoDb    *db,
                 OsinfoMedia *media)
{
  g_autoptr(OsinfoOsList) list = osinfo_db_get_os_list (db);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  guint n = osinfo_list_get_length (OSINFO_LIST (list));

  for (guint i = 0; i < n; i++)
    {
      OsinfoOs *os = OSINFO_OS (osinfo_list_get_nth (OSINFO_LIST (list), i));
      g_autoptr(OsinfoMediaList) medias = osinfo_os_get_media_list (os);
      guint n_media = osinfo_list_get_length (OSINFO_LIST (medias));

      for (guint j = 0; j < n_media; j++)
        {
          OsinfoMedia *reference = OSINFO_MEDIA (osinfo_list_get_nth (OSINFO_LIST (medias), j));

          if (osinfo_media_matches (media, reference))
            {
              const char *id = osinfo_product_get_short_id (OSINFO_PRODUCT (os));

              if (!g_ptr_array_find_with_equal_func (ids, id, g_str_equal, NULL))
                g_ptr_array_add (ids, g_strdup (id));
              break;
            }
        }
    }

  return ids;
}

static void
fill_resources (CasementInstallMedia *result,
                OsinfoOs             *os)
{
  g_autoptr(OsinfoResourcesList) minimum = osinfo_os_get_minimum_resources (os);
  g_autoptr(OsinfoResourcesList) recommended = osinfo_os_get_recommended_resources (os);
  OsinfoResourcesList *lists[] = { minimum, recommended };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      guint n = osinfo_list_get_length (OSINFO_LIST (lists[l]));

      for (guint i = 0; i < n; i++)
        {
          OsinfoResources *resources = OSINFO_RESOURCES (osinfo_list_get_nth (OSINFO_LIST (lists[l]), i));
          const char *arch = osinfo_resources_get_architecture (resources);
          gint n_cpus = osinfo_resources_get_n_cpus (resources);
          gint64 ram = osinfo_resources_get_ram (resources);
          gint64 storage = osinfo_resources_get_storage (resources);

          if (g_strcmp0 (arch, "x86_64") != 0 && g_strcmp0 (arch, OSINFO_ARCHITECTURE_ALL) != 0)
            continue;

          if (l == 0)
            {
              result->min_cpus = MAX (n_cpus, 0);
              result->min_ram = MAX (ram, 0);
              result->min_storage = MAX (storage, 0);
            }
          else
            {
              result->recommended_cpus = MAX (n_cpus, 0);
              result->recommended_ram = MAX (ram, 0);
              result->recommended_storage = MAX (storage, 0);
            }

          if (g_strcmp0 (arch, "x86_64") == 0)
            break;
        }
    }

  result->recommended_cpus = MAX (result->recommended_cpus, result->min_cpus);
  result->recommended_ram = MAX (result->recommended_ram, result->min_ram);
  result->recommended_storage = MAX (result->recommended_storage, result->min_storage);
}

static const char *
os_id_for_image (const CasementWindowsImage *image)
{
  if (image == NULL || image->build == 0)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (windows_builds); i++)
    if (image->is_server == windows_builds[i].server && image->build >= windows_builds[i].first_build)
      return windows_builds[i].os_id;

  return NULL;
}

/* Microsoft's own discs: "MICROSOFT CORPORATION" as publisher, or a label
 * like CCCOMA_X64FRE_EN-US_DV9 / CPBA_A64FRE_… ("FRE" is a free build). */
static gboolean
label_looks_like_windows (const char *volume_id,
                          const char *publisher_id)
{
  g_autofree char *publisher = g_ascii_strup (publisher_id ? publisher_id : "", -1);

  if (strstr (publisher, "MICROSOFT") != NULL)
    return TRUE;

  return g_regex_match_simple ("^(J_)?[A-Z0-9]+_(X64|X86|A64|ARM64)FRE[EV]?_",
                               volume_id ? volume_id : "", 0, 0);
}

static const char *
arch_from_label (const char *volume_id)
{
  static const struct { const char *tag; const char *arch; } tags[] = {
    { "_X64FRE", "x86_64" }, { "_X86FRE", "i686" }, { "_A64FRE", "aarch64" }, { "_ARM64FRE", "aarch64" },
  };

  for (guint i = 0; volume_id != NULL && i < G_N_ELEMENTS (tags); i++)
    if (strstr (volume_id, tags[i].tag) != NULL)
      return tags[i].arch;

  return NULL;
}

static const char *
arch_display_name (const char *arch)
{
  if (g_strcmp0 (arch, "i686") == 0 || g_strcmp0 (arch, "i386") == 0)
    return _("32-bit x86");
  if (g_strcmp0 (arch, "aarch64") == 0 || g_strcmp0 (arch, "armv7l") == 0)
    return _("ARM");
  return arch;
}

/* "en_US" (libosinfo) → "en-US" (Windows) */
static char *
windows_language (const char *language)
{
  char *tag = g_strdup (language);

  g_strdelimit (tag, "_", '-');
  return tag;
}

static CasementInstallMedia *
detect_install (GFile         *file,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(CasementInstallMedia) result = install_media_new ();
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(OsinfoMedia) media = NULL;
  g_autoptr(OsinfoOs) os = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = g_file_get_parse_name (file);
  g_autofree char *uri = g_file_get_uri (file);
  const CasementWindowsImage *image;
  const char *hint = _("Choose the Windows installation ISO downloaded from Microsoft.");
  const char *image_os_id;
  OsinfoDb *db;

  if (!(iso = open_iso (file, hint, cancellable, error)))
    return NULL;

  result->path = g_file_get_path (file);
  result->volume_id = g_strdup (casement_iso_get_volume_id (iso));

  if (!read_wim_images (iso, result->images, cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_debug ("Reading the image list of %s: %s", name, local_error->message);
      g_clear_error (&local_error);
    }

  image = casement_install_media_get_default_image (result);

  locker = g_mutex_locker_new (&osinfo_lock);
  db = get_osinfo_db ();

  /* Without REQUIRE_BOOTABLE, so that a disc that is not Windows or not
   * x86-64 is called that rather than "not bootable". The call spins a
   * main loop on the thread-default context: give it one of its own, or
   * it waits for the global context that the GUI thread holds. */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  media = osinfo_media_create_from_location_with_flags (uri, cancellable, 0, &local_error);
  g_main_context_pop_thread_default (context);
  if (media == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_debug ("libosinfo cannot read %s: %s", name, local_error->message);
      g_clear_error (&local_error);
    }
  else if (osinfo_db_identify_media (db, media))
    {
      os = osinfo_media_get_os (media);
      candidates = matching_os_ids (db, media);
    }

  if (os != NULL && !os_is_windows (os))
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_WINDOWS,
                   _("“%s” is %s, not Windows. Choose a Windows 10 or 11 installation ISO."),
                   name, osinfo_product_get_name (OSINFO_PRODUCT (os)));
      return NULL;
    }

  if (os == NULL && image == NULL &&
      !label_looks_like_windows (result->volume_id, casement_iso_get_publisher_id (iso)))
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_WINDOWS,
                   _("“%s” (labelled “%s”) is not a Windows installation disc. "
                     "Choose a Windows 10 or 11 installation ISO."),
                   name, result->volume_id);
      return NULL;
    }

  result->is_windows = TRUE;

  /* The disc's own image list is the strongest evidence of what it
   * holds; then what libosinfo matched; then the label. */
  if (image != NULL && image->architecture != NULL)
    result->architecture = g_strdup (image->architecture);
  else if (os != NULL && osinfo_media_get_architecture (media) != NULL)
    result->architecture = g_strdup (osinfo_media_get_architecture (media));
  else
    result->architecture = g_strdup (arch_from_label (result->volume_id));

  if (result->architecture != NULL && !g_str_equal (result->architecture, "x86_64"))
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_X86_64,
                   _("“%s” is Windows for %s; Casement runs 64-bit x86 (x86-64) Windows. "
                     "Download the x64 installation ISO instead."),
                   name, arch_display_name (result->architecture));
      return NULL;
    }
  g_free (result->architecture);
  result->architecture = g_strdup ("x86_64");

  if (media != NULL && !osinfo_media_is_bootable (media))
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_BOOTABLE,
                   _("“%s” is a Windows disc image that cannot boot (it has no El Torito boot record), "
                     "so it cannot install Windows. Use the ISO as Microsoft provides it, "
                     "not one rebuilt from its files."),
                   name);
      return NULL;
    }

  image_os_id = os_id_for_image (image);

  if (image_os_id != NULL &&
      (os == NULL || g_strcmp0 (image_os_id, osinfo_product_get_short_id (OSINFO_PRODUCT (os))) != 0))
    {
      OsinfoOs *by_image = find_os (db, image_os_id);

      if (os != NULL)
        g_debug ("libosinfo says %s, the image list says %s (build %u): trusting the image list",
                 osinfo_product_get_short_id (OSINFO_PRODUCT (os)), image_os_id, image->build);

      g_clear_object (&os);
      if (by_image != NULL)
        os = g_object_ref (by_image);
      else
        result->os_id = g_strdup (image_os_id);
    }
  else if (image_os_id == NULL && os != NULL && candidates != NULL && candidates->len > 1)
    {
      g_autofree char *others = NULL;

      g_ptr_array_add (candidates, NULL);
      others = g_strjoinv (", ", (char **) candidates->pdata);
      result->warning = g_strdup_printf (_("The label of this disc (“%s”) fits several Windows versions (%s), "
                                           "and its list of editions could not be read. Casement assumes %s; "
                                           "if that is wrong, Setup will not find the virtio drivers."),
                                         result->volume_id, others,
                                         osinfo_product_get_name (OSINFO_PRODUCT (os)));
    }

  if (os == NULL && result->os_id == NULL)
    {
      /* Windows, by its publisher or label, that this osinfo-db does not
       * know yet: a newer release. Set it up like the newest one we know. */
      result->os_id = g_strdup ("win11");
      result->warning = g_strdup_printf (_("Casement does not know this Windows version (label “%s”) "
                                           "and will set it up like Windows 11. Updating the osinfo-db "
                                           "package may teach it."),
                                         result->volume_id);
      if (find_os (db, "win11") != NULL)
        fill_resources (result, find_os (db, "win11"));
    }

  if (os != NULL)
    {
      g_autoptr(OsinfoOsVariantList) variants = media != NULL ? osinfo_media_get_os_variants (media) : NULL;

      result->os_id = g_strdup (osinfo_product_get_short_id (OSINFO_PRODUCT (os)));
      result->name = g_strdup (osinfo_product_get_name (OSINFO_PRODUCT (os)));
      result->version = g_strdup (osinfo_product_get_version (OSINFO_PRODUCT (os)));
      fill_resources (result, os);

      if (variants != NULL && osinfo_list_get_length (OSINFO_LIST (variants)) > 0)
        result->edition = g_strdup (osinfo_entity_get_id (osinfo_list_get_nth (OSINFO_LIST (variants), 0)));
    }

  if (casement_media_virtio_os_dir (result->os_id) == NULL)
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNSUPPORTED,
                   _("“%s” is %s, which Casement does not set up: it needs Windows 10 or 11 "
                     "(or Windows Server 2016 to 2025), for which virtio-win has drivers."),
                   name, result->name ? result->name : result->os_id);
      return NULL;
    }

  if (result->name == NULL)
    result->name = g_strdup (image != NULL && image->name != NULL ? image->name : _("Microsoft Windows"));
  if (result->version == NULL && image != NULL && image->build != 0)
    result->version = g_strdup_printf ("10.0.%u", image->build);

  if (image != NULL && image->language != NULL)
    result->language = g_strdup (image->language);
  else if (media != NULL)
    {
      GList *languages = osinfo_media_get_languages (media);

      if (languages != NULL)
        result->language = windows_language (languages->data);
      g_list_free (languages);
    }

  return g_steal_pointer (&result);
}

static void
detect_install_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  GFile *file = task_data;
  GError *error = NULL;
  CasementInstallMedia *media;

  g_assert (G_IS_FILE (file));

  if ((media = detect_install (file, cancellable, &error)))
    g_task_return_pointer (task, media, (GDestroyNotify) casement_install_media_free);
  else
    g_task_return_error (task, error);
}

void
casement_media_detect_install_async (GFile               *iso,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (iso));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_media_detect_install_async);
  g_task_set_task_data (task, g_object_ref (iso), g_object_unref);
  g_task_run_in_thread (task, detect_install_thread);
}

CasementInstallMedia *
casement_media_detect_install_finish (GAsyncResult  *result,
                                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_media_detect_install_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

CasementInstallMedia *
casement_media_detect_install (GFile         *iso,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (G_IS_FILE (iso), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return detect_install (iso, cancellable, error);
}

/* ---- virtio-win discs -------------------------------------------------- */

/**
 * casement_media_get_os_name:
 * @os_id: a libosinfo short id
 *
 * Returns: the translated name of a Windows version ("win11" → "Windows
 * 11"), or @os_id itself when it is not one we know
 */
const char *
casement_media_get_os_name (const char *os_id)
{
  static const struct { const char *os_id; const char *name; } names[] = {
    { "win11", N_("Windows 11") },
    { "win10", N_("Windows 10") },
    { "win2k25", N_("Windows Server 2025") },
    { "win2k22", N_("Windows Server 2022") },
    { "win2k19", N_("Windows Server 2019") },
    { "win2k16", N_("Windows Server 2016") },
  };

  g_return_val_if_fail (os_id != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (names[i].os_id, os_id))
      return _(names[i].name);

  return os_id;
}

/* TRUE when @path is a folder holding a driver's .inf. */
static gboolean
has_driver_folder (CasementIso   *iso,
                   const char    *path,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) names = NULL;

  if (!(names = casement_iso_list_dir (iso, path, cancellable, &local_error)))
    {
      if (g_error_matches (local_error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND))
        return FALSE;

      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (names[i], -1);

      if (g_str_has_suffix (lower, ".inf"))
        return TRUE;
    }

  return FALSE;
}

static gboolean
root_has (char       **root_names,
          const char  *name,
          gboolean     prefix_match,
          const char  *suffix)
{
  for (guint i = 0; root_names[i] != NULL; i++)
    {
      g_autofree char *lower = g_ascii_strdown (root_names[i], -1);

      if (prefix_match ? (g_str_has_prefix (lower, name) && g_str_has_suffix (lower, suffix))
                       : g_str_equal (lower, name))
        return TRUE;
    }

  return FALSE;
}

static CasementDriverMedia *
check_drivers (GFile         *file,
               const char    *os_id,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(CasementDriverMedia) result = g_new0 (CasementDriverMedia, 1);
  g_autoptr(CasementIso) iso = NULL;
  g_autoptr(GStrvBuilder) present = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) missing = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) fallbacks = g_strv_builder_new ();
  g_autoptr(GString) problem = g_string_new (NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GRegex) version_regex = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) root_names = NULL;
  g_autofree char *name = g_file_get_parse_name (file);
  const char *hint = _(GET_VIRTIO_WIN_HINT);
  const char *os_dir;
  gboolean any_driver = FALSE;

  if (!(os_dir = casement_media_virtio_os_dir (os_id)))
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_UNSUPPORTED,
                   _("virtio-win has no drivers for “%s”: Casement installs Windows 10, "
                     "Windows 11 and Windows Server 2016 to 2025."),
                   os_id);
      return NULL;
    }

  if (!(iso = open_iso (file, hint, cancellable, error)))
    return NULL;

  if (!(root_names = casement_iso_list_dir (iso, "/", cancellable, &local_error)))
    {
      propagate_read_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  result->path = g_file_get_path (file);
  result->os_dir = g_strdup (os_dir);

  for (guint i = 0; required_drivers[i] != NULL; i++)
    {
      const char *driver = required_drivers[i];
      const char *fallback = casement_media_virtio_fallback_dir (driver, os_id);
      g_autofree char *path = g_strdup_printf ("%s/%s/amd64", driver, os_dir);
      g_autofree char *lower = g_ascii_strdown (driver, -1);
      gboolean found;

      if (root_has (root_names, lower, FALSE, NULL))
        any_driver = TRUE;

      found = has_driver_folder (iso, path, cancellable, &local_error);
      if (!found && local_error == NULL && fallback != NULL)
        {
          g_autofree char *fallback_path = g_strdup_printf ("%s/%s/amd64", driver, fallback);

          if ((found = has_driver_folder (iso, fallback_path, cancellable, &local_error)))
            g_strv_builder_add (fallbacks, driver);
        }

      if (local_error != NULL)
        {
          propagate_read_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      g_strv_builder_add (found ? present : missing, driver);
    }

  result->has_guest_tools = root_has (root_names, "virtio-win-guest-tools.exe", FALSE, NULL);
  result->has_winfsp = root_has (root_names, "winfsp", TRUE, ".msi");

  if (!any_driver && !result->has_guest_tools)
    {
      g_set_error (error, CASEMENT_MEDIA_ERROR, CASEMENT_MEDIA_ERROR_NOT_VIRTIO_WIN,
                   _("“%s” is not the virtio-win driver disc: it has none of its driver folders "
                     "(viostor, NetKVM, …) nor virtio-win-guest-tools.exe. %s"),
                   name, hint);
      return NULL;
    }

  result->present = g_strv_builder_end (present);
  result->missing = g_strv_builder_end (missing);
  result->fallbacks = g_strv_builder_end (fallbacks);

  version_regex = g_regex_new ("^virtio-win-([0-9]+(\\.[0-9]+)+)", G_REGEX_CASELESS, 0, NULL);
  if (g_regex_match (version_regex, casement_iso_get_volume_id (iso), 0, &match))
    result->version = g_match_info_fetch (match, 1);

  if (result->missing[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", result->missing);

      g_string_append_printf (problem,
                              _("This virtio-win disc lacks the %s drivers for %s "
                                "(no <driver>\\%s\\amd64 folder with an .inf file)."),
                              casement_media_get_os_name (os_id), list, os_dir);
    }

  if (!result->has_guest_tools)
    {
      if (problem->len > 0)
        g_string_append_c (problem, ' ');
      g_string_append (problem,
                       _("It lacks virtio-win-guest-tools.exe, which installs the display agent "
                         "and the guest agent; virtio-win 0.1.190 and later have it."));
    }

  if (problem->len > 0)
    {
      g_string_append_c (problem, ' ');
      g_string_append (problem, hint);
      result->problem = g_string_free (g_steal_pointer (&problem), FALSE);
    }

  if (result->fallbacks[0] != NULL)
    {
      g_autofree char *list = g_strjoinv (", ", result->fallbacks);

      result->note = g_strdup_printf (_("This virtio-win disc has no %s build of %s; the one in its "
                                        "“%s” folder will be used instead, as virtio-win intends."),
                                      casement_media_get_os_name (os_id), list,
                                      casement_media_virtio_fallback_dir (result->fallbacks[0], os_id));
    }

  return g_steal_pointer (&result);
}

typedef struct
{
  GFile *file;
  char  *os_id;
} CheckData;

static void
check_data_free (CheckData *data)
{
  g_clear_object (&data->file);
  g_free (data->os_id);
  g_free (data);
}

static void
check_drivers_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  CheckData *data = task_data;
  GError *error = NULL;
  CasementDriverMedia *media;

  g_assert (data != NULL);

  if ((media = check_drivers (data->file, data->os_id, cancellable, &error)))
    g_task_return_pointer (task, media, (GDestroyNotify) casement_driver_media_free);
  else
    g_task_return_error (task, error);
}

void
casement_media_check_drivers_async (GFile               *iso,
                                    const char          *os_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckData *data;

  g_return_if_fail (G_IS_FILE (iso));
  g_return_if_fail (os_id != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (CheckData, 1);
  data->file = g_object_ref (iso);
  data->os_id = g_strdup (os_id);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_media_check_drivers_async);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  g_task_run_in_thread (task, check_drivers_thread);
}

CasementDriverMedia *
casement_media_check_drivers_finish (GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_media_check_drivers_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

CasementDriverMedia *
casement_media_check_drivers (GFile         *iso,
                              const char    *os_id,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_return_val_if_fail (G_IS_FILE (iso), NULL);
  g_return_val_if_fail (os_id != NULL, NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return check_drivers (iso, os_id, cancellable, error);
}
