/* casement-vm-store.c
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

#define G_LOG_DOMAIN "casement-vm-store"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-util.h"
#include "casement-vm-store.h"

/* Long enough to read, short enough that folder names stay manageable. */
#define MAX_SLUG_LENGTH 40

/* Attempts at finding a free folder name when other processes keep taking
 * the one we chose; reaching it means something is badly wrong. */
#define MAX_RENAME_ATTEMPTS 100

struct _CasementVmStore
{
  GObject  parent_instance;

  char    *root;
};

typedef struct
{
  char    *json;        /* the config as it was when creation started */
  char    *name;
  char    *disk_path;   /* relative to the VM folder; NULL when no disk is made */
  guint64  disk_size;
  char    *staging;     /* staging folder while it exists */
  char    *slug;        /* final folder name, once renamed into place */
  GError  *error;       /* the failure being reported after clean-up */
} CreateData;

enum {
  PROP_0,
  PROP_ROOT,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (CasementVmStore, casement_vm_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (casement-vm-store-error-quark, casement_vm_store_error)

static GParamSpec *properties[N_PROPS];

static void
create_data_free (gpointer data)
{
  CreateData *create = data;

  /* Clean-up runs before the task completes; a staging folder left here
   * would be a bug. */
  g_assert (create->staging == NULL);

  g_free (create->json);
  g_free (create->name);
  g_free (create->disk_path);
  g_free (create->slug);
  g_clear_error (&create->error);
  g_free (create);
}

/* Slugs come from the command line and from folder listings: anything
 * that is not one plain, visible folder name is refused before it gets
 * near a path. */
static gboolean
slug_is_safe (const char *slug)
{
  return slug != NULL && slug[0] != '\0' && slug[0] != '.' && strchr (slug, G_DIR_SEPARATOR) == NULL;
}

/* Anything at @path counts, even a dangling link or something we may not
 * look at: only a clear "no such file" means the name is free. */
static gboolean
path_exists (const char *path)
{
  struct stat st;

  return g_lstat (path, &st) == 0 || errno != ENOENT;
}

static gboolean
is_vm_folder (const char *root,
              const char *slug)
{
  g_autofree char *dir = g_build_filename (root, slug, NULL);
  g_autofree char *config = g_build_filename (dir, CASEMENT_VM_CONFIG_FILE, NULL);
  struct stat st;

  return slug_is_safe (slug) &&
         g_lstat (dir, &st) == 0 && S_ISDIR (st.st_mode) &&
         g_lstat (config, &st) == 0 && S_ISREG (st.st_mode);
}

/* Names compare as people read them: case, surrounding space and Unicode
 * composition do not make two VMs different. */
static char *
dup_name_key (const char *name)
{
  g_autofree char *stripped = g_strstrip (g_strdup (name));
  g_autofree char *normalized = g_utf8_normalize (stripped, -1, G_NORMALIZE_ALL_COMPOSE);

  return normalized != NULL ? g_utf8_casefold (normalized, -1) : g_steal_pointer (&stripped);
}

static char *
slugify (const char *name)
{
  g_autofree char *ascii = NULL;
  g_autoptr(GString) slug = g_string_new (NULL);
  gboolean gap = FALSE;

  g_assert (name != NULL);

  /* The C locale keeps transliteration the same whatever the user's
   * locale is, so a name always maps to the same slug. */
  ascii = g_str_to_ascii (name, "C");

  for (const char *p = ascii; *p; p++)
    {
      if (!g_ascii_isalnum (*p))
        {
          gap = TRUE;
          continue;
        }

      if (gap && slug->len > 0)
        g_string_append_c (slug, '-');
      gap = FALSE;
      g_string_append_c (slug, g_ascii_tolower (*p));
    }

  /* Long names are cut at a word boundary when there is one. */
  if (slug->len > MAX_SLUG_LENGTH)
    {
      const char *last_gap;

      g_string_truncate (slug, MAX_SLUG_LENGTH + 1);
      if (slug->str[MAX_SLUG_LENGTH] != '-' && (last_gap = strrchr (slug->str, '-')))
        g_string_truncate (slug, last_gap - slug->str);
      g_string_truncate (slug, MIN (slug->len, MAX_SLUG_LENGTH));
      while (slug->len > 0 && slug->str[slug->len - 1] == '-')
        g_string_truncate (slug, slug->len - 1);
    }

  /* Nothing ASCII survived ("测试"): a hash of the name still gives a
   * stable, distinct folder name. */
  if (slug->len == 0)
    {
      g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, -1);

      g_string_printf (slug, "vm-%.8s", hash);
    }

  return g_string_free (g_steal_pointer (&slug), FALSE);
}

/* rename() without replacing what is at @to, even an empty folder. */
static int
rename_no_replace (const char *from,
                   const char *to)
{
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;

  if (errno != EINVAL && errno != ENOSYS)
    return -1;

  /* Some network filesystems lack RENAME_NOREPLACE; checking first leaves
   * only a narrow race there. */
  if (path_exists (to))
    {
      errno = EEXIST;
      return -1;
    }

  return g_rename (from, to);
}

static gboolean
remove_tree_at (int          parent_fd,
                const char  *name,
                dev_t        device,
                const char  *top,
                GError     **error)
{
  struct stat st;

  g_assert (name != NULL);

  if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        return TRUE;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot remove “%s” inside “%s”: %s"), name, top, g_strerror (errsv));
      return FALSE;
    }

  if (S_ISDIR (st.st_mode))
    {
      struct dirent *entry;
      DIR *dir;
      int fd;

      /* Something mounted inside the folder is not ours to empty. */
      if (st.st_dev != device)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                       _("Cannot remove “%s” inside “%s”: another filesystem is mounted there; "
                         "unmount it first"),
                       name, top);
          return FALSE;
        }

      if ((fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
          !(dir = fdopendir (fd)))
        {
          int errsv = errno;

          if (fd >= 0)
            close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       _("Cannot remove “%s” inside “%s”: %s"), name, top, g_strerror (errsv));
          return FALSE;
        }

      while ((entry = readdir (dir)))
        {
          if (g_str_equal (entry->d_name, ".") || g_str_equal (entry->d_name, ".."))
            continue;

          if (!remove_tree_at (dirfd (dir), entry->d_name, device, top, error))
            {
              closedir (dir);
              return FALSE;
            }
        }
      closedir (dir);
    }

  /* Symbolic links are removed themselves, never followed. */
  if (unlinkat (parent_fd, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) != 0 && errno != ENOENT)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot remove “%s” inside “%s”: %s"), name, top, g_strerror (errsv));
      return FALSE;
    }

  return TRUE;
}

/* Removes @path and everything in it, staying on its filesystem and never
 * following a symbolic link out of it. */
static gboolean
remove_tree (const char  *path,
             GError     **error)
{
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  struct stat st;
  gboolean ret;
  int fd;

  g_assert (path != NULL);

  if (g_lstat (path, &st) != 0)
    return TRUE;

  if ((fd = open (parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot remove “%s”: %s"), path, g_strerror (errsv));
      return FALSE;
    }

  ret = remove_tree_at (fd, name, st.st_dev, path, error);
  close (fd);

  return ret;
}

/* Makes a rename in @dir survive a power cut, not just a crash. */
static void
sync_folder (const char *dir)
{
  int fd;

  if ((fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    {
      if (fsync (fd) != 0)
        g_debug ("Cannot sync %s: %s", dir, g_strerror (errno));
      close (fd);
    }
}

static void
casement_vm_store_finalize (GObject *object)
{
  CasementVmStore *self = (CasementVmStore *)object;

  g_clear_pointer (&self->root, g_free);

  G_OBJECT_CLASS (casement_vm_store_parent_class)->finalize (object);
}

static void
casement_vm_store_constructed (GObject *object)
{
  CasementVmStore *self = (CasementVmStore *)object;

  G_OBJECT_CLASS (casement_vm_store_parent_class)->constructed (object);

  /* Paths built from the root end up in QEMU's command line, which is run
   * from another folder: make it absolute once. */
  if (self->root == NULL)
    self->root = casement_util_dup_vms_dir ();
  else
    {
      g_autofree char *given = g_steal_pointer (&self->root);
      self->root = g_canonicalize_filename (given, NULL);
    }
}

static void
casement_vm_store_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  CasementVmStore *self = CASEMENT_VM_STORE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_value_set_string (value, casement_vm_store_get_root (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_store_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  CasementVmStore *self = CASEMENT_VM_STORE (object);

  switch (prop_id)
    {
    case PROP_ROOT:
      g_assert (self->root == NULL);
      self->root = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_store_class_init (CasementVmStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = casement_vm_store_constructed;
  object_class->finalize = casement_vm_store_finalize;
  object_class->get_property = casement_vm_store_get_property;
  object_class->set_property = casement_vm_store_set_property;

  properties[PROP_ROOT] =
    g_param_spec_string ("root", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
casement_vm_store_init (CasementVmStore *self)
{
}

/**
 * casement_vm_store_new:
 * @root: (nullable): the library folder, or %NULL for the default
 *
 * The store is safe to use from worker threads: it holds no state but its
 * root. Every function except casement_vm_store_create_async() blocks on
 * file I/O; the GUI calls them from a worker thread.
 *
 * Returns: (transfer full): a new #CasementVmStore
 */
CasementVmStore *
casement_vm_store_new (const char *root)
{
  return g_object_new (CASEMENT_TYPE_VM_STORE,
                       "root", root,
                       NULL);
}

const char *
casement_vm_store_get_root (CasementVmStore *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);

  return self->root;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/**
 * casement_vm_store_list:
 * @self: a #CasementVmStore
 * @error: a location for a #GError
 *
 * A library folder that does not exist yet holds no VMs; that is not an
 * error.
 *
 * Returns: (transfer full): the slugs, sorted, or %NULL with @error set
 */
char **
casement_vm_store_list (CasementVmStore  *self,
                        GError          **error)
{
  g_autoptr(GPtrArray) slugs = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  slugs = g_ptr_array_new_with_free_func (g_free);

  if (!(dir = g_dir_open (self->root, 0, &local_error)))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  else
    {
      /* Hidden folders are creations and deletions in progress. */
      while ((name = g_dir_read_name (dir)))
        {
          if (is_vm_folder (self->root, name))
            g_ptr_array_add (slugs, g_strdup (name));
        }
    }

  g_ptr_array_sort (slugs, compare_strings);
  g_ptr_array_add (slugs, NULL);

  return (char **)g_ptr_array_free (g_steal_pointer (&slugs), FALSE);
}

/* The slug of the VM other than @except_slug whose name reads as @name. */
static char *
find_by_name (CasementVmStore *self,
              const char      *name,
              const char      *except_slug)
{
  g_auto(GStrv) slugs = NULL;
  g_autofree char *key = NULL;

  g_assert (CASEMENT_IS_VM_STORE (self));
  g_assert (name != NULL);

  if (!(slugs = casement_vm_store_list (self, NULL)))
    return NULL;

  key = dup_name_key (name);

  for (guint i = 0; slugs[i] != NULL; i++)
    {
      g_autoptr(CasementVmConfig) config = NULL;
      g_autofree char *other_key = NULL;

      if (g_strcmp0 (slugs[i], except_slug) == 0 ||
          !(config = casement_vm_store_load (self, slugs[i], NULL)))
        continue;

      other_key = dup_name_key (casement_vm_config_get_name (config));
      if (g_str_equal (key, other_key))
        return g_strdup (slugs[i]);
    }

  return NULL;
}

/**
 * casement_vm_store_lookup:
 * @self: a #CasementVmStore
 * @name_or_slug: what the user typed
 *
 * A slug wins over a name; names match regardless of case.
 *
 * Returns: (transfer full) (nullable): the slug, or %NULL when no VM matches
 */
char *
casement_vm_store_lookup (CasementVmStore *self,
                          const char      *name_or_slug)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (name_or_slug != NULL, NULL);

  if (is_vm_folder (self->root, name_or_slug))
    return g_strdup (name_or_slug);

  return find_by_name (self, name_or_slug, NULL);
}

/**
 * casement_vm_store_make_slug:
 * @self: a #CasementVmStore
 * @name: a VM name
 *
 * Returns: (transfer full): a folder name not in use in the library now
 */
char *
casement_vm_store_make_slug (CasementVmStore *self,
                             const char      *name)
{
  g_autofree char *base = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  base = slugify (name);

  for (guint n = 1; ; n++)
    {
      g_autofree char *slug = n == 1 ? g_strdup (base) : g_strdup_printf ("%s-%u", base, n);
      g_autofree char *path = g_build_filename (self->root, slug, NULL);

      if (!path_exists (path))
        return g_steal_pointer (&slug);
    }
}

/**
 * casement_vm_store_dup_vm_dir:
 * @self: a #CasementVmStore
 * @slug: a VM's slug
 *
 * Returns: (transfer full): the VM's folder
 */
char *
casement_vm_store_dup_vm_dir (CasementVmStore *self,
                              const char      *slug)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (slug_is_safe (slug), NULL);

  return g_build_filename (self->root, slug, NULL);
}

static gboolean
check_vm_folder (CasementVmStore  *self,
                 const char       *slug,
                 GError          **error)
{
  g_autofree char *dir = NULL;
  struct stat st;

  g_assert (CASEMENT_IS_VM_STORE (self));

  if (slug_is_safe (slug))
    {
      dir = g_build_filename (self->root, slug, NULL);
      if (g_lstat (dir, &st) == 0 && S_ISDIR (st.st_mode))
        return TRUE;
    }

  g_set_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND,
               _("There is no virtual machine “%s” in “%s”"), slug, self->root);
  return FALSE;
}

/**
 * casement_vm_store_load:
 * @self: a #CasementVmStore
 * @slug: a VM's slug
 * @error: a location for a #GError
 *
 * A vm.json that cannot be read gives %CASEMENT_VM_STORE_ERROR_CORRUPT,
 * naming the file; one from a newer Casement gives
 * %CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED. The file is never changed.
 *
 * Returns: (transfer full): the VM's config, or %NULL with @error set
 */
CasementVmConfig *
casement_vm_store_load (CasementVmStore  *self,
                        const char       *slug,
                        GError          **error)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (slug != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_vm_folder (self, slug, error))
    return NULL;

  path = g_build_filename (self->root, slug, CASEMENT_VM_CONFIG_FILE, NULL);
  file = g_file_new_for_path (path);

  if ((config = casement_vm_config_load (file, &local_error)))
    return g_steal_pointer (&config);

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_set_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_NOT_FOUND,
                 _("The folder of virtual machine “%s” has no %s; it is not a Casement VM"),
                 slug, CASEMENT_VM_CONFIG_FILE);
  else if (g_error_matches (local_error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE) ||
           g_error_matches (local_error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID))
    g_set_error_literal (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_CORRUPT,
                         local_error->message);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));

  return NULL;
}

/* A vm.json that does not load is moved aside as vm.json.corrupt (or
 * .corrupt-2, …) before a new one is written, so whatever it held stays
 * available to repair by hand. */
static gboolean
set_aside_corrupt (const char  *path,
                   GError     **error)
{
  g_assert (path != NULL);

  for (guint n = 1; n <= MAX_RENAME_ATTEMPTS; n++)
    {
      g_autofree char *aside = n == 1 ? g_strconcat (path, ".corrupt", NULL)
                                      : g_strdup_printf ("%s.corrupt-%u", path, n);

      if (rename_no_replace (path, aside) == 0)
        {
          g_debug ("Kept unreadable %s as %s", path, aside);
          return TRUE;
        }

      if (errno != EEXIST)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       _("Cannot move the unreadable “%s” aside: %s"), path, g_strerror (errsv));
          return FALSE;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               _("Cannot move the unreadable “%s” aside: too many earlier copies; remove some"), path);
  return FALSE;
}

/**
 * casement_vm_store_save:
 * @self: a #CasementVmStore
 * @slug: the VM's slug
 * @config: its settings
 * @error: a location for a #GError
 *
 * Writes the VM's vm.json atomically. Refuses a name another VM has
 * (%CASEMENT_VM_STORE_ERROR_EXISTS) and never overwrites a vm.json of a
 * newer Casement; an unreadable one is kept aside as vm.json.corrupt.
 *
 * Returns: %TRUE on success
 */
gboolean
casement_vm_store_save (CasementVmStore   *self,
                        const char        *slug,
                        CasementVmConfig  *config,
                        GError           **error)
{
  g_autoptr(CasementVmConfig) existing = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autofree char *other = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), FALSE);
  g_return_val_if_fail (slug != NULL, FALSE);
  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (config), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_vm_folder (self, slug, error))
    return FALSE;

  if ((other = find_by_name (self, casement_vm_config_get_name (config), slug)))
    {
      g_set_error (error, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS,
                   _("Another virtual machine is already called “%s”; choose a different name"),
                   casement_vm_config_get_name (config));
      return FALSE;
    }

  path = g_build_filename (self->root, slug, CASEMENT_VM_CONFIG_FILE, NULL);
  file = g_file_new_for_path (path);

  if (!(existing = casement_vm_config_load (file, &local_error)))
    {
      if (g_error_matches (local_error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) &&
          !set_aside_corrupt (path, error))
        return FALSE;
    }

  return casement_vm_config_save (config, file, error);
}

static gboolean
write_config (const char  *dir,
              const char  *json,
              GError     **error)
{
  g_autofree char *path = g_build_filename (dir, CASEMENT_VM_CONFIG_FILE, NULL);

  return g_file_set_contents_full (path, json, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

static void
create_prepare_worker (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  CasementVmStore *self = source_object;
  CreateData *create = task_data;
  g_autofree char *other = NULL;
  g_autofree char *slug = NULL;
  g_autofree char *template = NULL;
  g_autofree char *staging_name = NULL;

  g_assert (CASEMENT_IS_VM_STORE (self));
  g_assert (create->staging == NULL);

  if (g_task_return_error_if_cancelled (task))
    return;

  if ((other = find_by_name (self, create->name, NULL)))
    {
      g_task_return_new_error (task, CASEMENT_VM_STORE_ERROR, CASEMENT_VM_STORE_ERROR_EXISTS,
                               _("A virtual machine called “%s” already exists; choose a different name"),
                               create->name);
      return;
    }

  if (g_mkdir_with_parents (self->root, 0700) != 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               _("Cannot create the virtual machine library “%s”: %s"),
                               self->root, g_strerror (errsv));
      return;
    }

  slug = casement_vm_store_make_slug (self, create->name);
  staging_name = g_strdup_printf (".%s.new-XXXXXX", slug);
  template = g_build_filename (self->root, staging_name, NULL);

  if (!g_mkdtemp_full (template, 0700))
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               _("Cannot create a folder in “%s”: %s"),
                               self->root, g_strerror (errsv));
      return;
    }
  create->staging = g_steal_pointer (&template);

  if (create->disk_path != NULL)
    {
      g_autofree char *disk = g_build_filename (create->staging, create->disk_path, NULL);
      g_autofree char *disk_dir = g_path_get_dirname (disk);

      if (g_mkdir_with_parents (disk_dir, 0700) != 0)
        {
          int errsv = errno;

          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                                   _("Cannot create folder “%s”: %s"), disk_dir, g_strerror (errsv));
          return;
        }
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  g_task_return_boolean (task, TRUE);
}

static void
create_commit_worker (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  CasementVmStore *self = source_object;
  CreateData *create = task_data;
  g_autoptr(GError) error = NULL;

  g_assert (CASEMENT_IS_VM_STORE (self));
  g_assert (create->staging != NULL);

  if (!write_config (create->staging, create->json, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The last moment a cancellation can still undo everything. */
  if (g_task_return_error_if_cancelled (task))
    return;

  for (guint attempt = 0; attempt < MAX_RENAME_ATTEMPTS; attempt++)
    {
      g_autofree char *slug = casement_vm_store_make_slug (self, create->name);
      g_autofree char *dir = g_build_filename (self->root, slug, NULL);

      if (rename_no_replace (create->staging, dir) == 0)
        {
          g_clear_pointer (&create->staging, g_free);
          create->slug = g_steal_pointer (&slug);
          sync_folder (self->root);
          g_task_return_boolean (task, TRUE);
          return;
        }

      /* Taken since the slug was chosen: pick the next free one. */
      if (errno != EEXIST && errno != ENOTEMPTY)
        {
          int errsv = errno;

          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                                   _("Cannot move the new virtual machine into place as “%s”: %s"),
                                   dir, g_strerror (errsv));
          return;
        }
    }

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _("Cannot find a free folder name for “%s” in “%s”"),
                           create->name, self->root);
}

static void
create_cleanup_worker (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  CreateData *create = task_data;
  g_autoptr(GError) error = NULL;

  g_assert (create->staging != NULL);

  if (!remove_tree (create->staging, &error))
    g_warning ("Cannot remove the unfinished virtual machine: %s", error->message);

  g_clear_pointer (&create->staging, g_free);
  g_task_return_boolean (task, TRUE);
}

static void
create_cleanup_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateData *create = g_task_get_task_data (task);

  g_assert (G_IS_TASK (task));
  g_assert (create->error != NULL);

  g_task_return_error (task, g_steal_pointer (&create->error));
}

/* Reports @error once nothing of the half-made VM is left. */
static void
create_fail (GTask  *task,
             GError *error)
{
  CreateData *create = g_task_get_task_data (task);
  g_autoptr(GTask) cleanup = NULL;

  g_assert (G_IS_TASK (task));
  g_assert (error != NULL);

  if (create->staging == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  create->error = error;

  /* No cancellable: the clean-up must run even when cancellation caused it. */
  cleanup = g_task_new (g_task_get_source_object (task), NULL, create_cleanup_cb, task);
  g_task_set_source_tag (cleanup, create_fail);
  g_task_set_task_data (cleanup, create, NULL);
  g_task_run_in_thread (cleanup, create_cleanup_worker);
}

static void
create_commit_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  CreateData *create = g_task_get_task_data (task);
  GError *error = NULL;

  g_assert (G_IS_TASK (task));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      create_fail (task, error);
      return;
    }

  g_debug ("Created virtual machine “%s” as %s", create->name, create->slug);
  g_task_return_pointer (task, g_strdup (create->slug), g_free);
  g_object_unref (task);
}

static void
create_commit (GTask *task)
{
  g_autoptr(GTask) commit = NULL;

  g_assert (G_IS_TASK (task));

  commit = g_task_new (g_task_get_source_object (task), g_task_get_cancellable (task),
                       create_commit_cb, task);
  g_task_set_source_tag (commit, create_commit);
  g_task_set_check_cancellable (commit, FALSE);
  g_task_set_task_data (commit, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (commit, create_commit_worker);
}

static void
create_disk_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  g_assert (G_IS_TASK (task));

  if (!casement_qemu_img_create_finish (result, &error))
    {
      create_fail (task, error);
      return;
    }

  create_commit (task);
}

static void
create_prepare_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  CreateData *create = g_task_get_task_data (task);
  GError *error = NULL;

  g_assert (G_IS_TASK (task));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      create_fail (task, error);
      return;
    }

  if (create->disk_path != NULL)
    {
      g_autofree char *path = g_build_filename (create->staging, create->disk_path, NULL);
      g_autoptr(GFile) disk = g_file_new_for_path (path);

      casement_qemu_img_create_async (disk, create->disk_size, g_task_get_cancellable (task),
                                      create_disk_cb, task);
      return;
    }

  create_commit (task);
}

/**
 * casement_vm_store_create_async:
 * @self: a #CasementVmStore
 * @config: the new VM's settings; later changes to it do not matter
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Validates @config, then builds the VM in a hidden staging folder: the
 * disk (qemu-img) when the config has a disk size and a disk path inside
 * the VM's folder, then vm.json; the folder is renamed into place last.
 * On failure or cancellation the staging folder is removed before the
 * callback runs. Cancelling after the rename has no effect.
 */
void
casement_vm_store_create_async (CasementVmStore     *self,
                                CasementVmConfig    *config,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) prepare = NULL;
  g_autoptr(GError) error = NULL;
  CreateData *create;
  const char *disk_path;

  g_return_if_fail (CASEMENT_IS_VM_STORE (self));
  g_return_if_fail (CASEMENT_IS_VM_CONFIG (config));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_store_create_async);
  /* Whether the VM exists is decided in one place, before the rename. */
  g_task_set_check_cancellable (task, FALSE);

  if (!casement_vm_config_validate (config, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  create = g_new0 (CreateData, 1);
  create->json = casement_vm_config_to_json (config);
  create->name = g_strdup (casement_vm_config_get_name (config));
  create->disk_size = casement_vm_config_get_disk_size (config);
  disk_path = casement_vm_config_get_disk_path (config);
  if (create->disk_size > 0 && !g_path_is_absolute (disk_path))
    create->disk_path = g_strdup (disk_path);
  g_task_set_task_data (task, create, create_data_free);

  prepare = g_task_new (self, cancellable, create_prepare_cb, g_steal_pointer (&task));
  g_task_set_source_tag (prepare, casement_vm_store_create_async);
  g_task_set_check_cancellable (prepare, FALSE);
  g_task_set_task_data (prepare, create, NULL);
  g_task_run_in_thread (prepare, create_prepare_worker);
}

/**
 * casement_vm_store_create_finish:
 * @self: a #CasementVmStore
 * @result: the #GAsyncResult
 * @error: a location for a #GError
 *
 * Returns: (transfer full): the new VM's slug, or %NULL with @error set
 */
char *
casement_vm_store_create_finish (CasementVmStore  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_vm_store_create_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Moves the VM's disk to "<root>/<slug>.<ext>" (or "<slug>-2.<ext>", …) and
 * returns where it went; a disk outside the VM's folder stays where it is. */
static gboolean
keep_disk_image (CasementVmStore  *self,
                 const char       *slug,
                 char            **kept_path,
                 GError          **error)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *inside = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *basename = NULL;
  const char *disk_path = "disk.qcow2";
  const char *extension;

  g_assert (CASEMENT_IS_VM_STORE (self));
  g_assert (kept_path != NULL && *kept_path == NULL);

  /* Even with an unreadable vm.json the disk is worth saving: look for it
   * under the default name then. */
  if ((config = casement_vm_store_load (self, slug, NULL)))
    disk_path = casement_vm_config_get_disk_path (config);

  vm_dir = g_build_filename (self->root, slug, NULL);
  inside = g_strconcat (vm_dir, G_DIR_SEPARATOR_S, NULL);
  disk = g_path_is_absolute (disk_path) ? g_canonicalize_filename (disk_path, NULL)
                                        : g_build_filename (vm_dir, disk_path, NULL);

  if (!path_exists (disk))
    return TRUE;

  if (!g_str_has_prefix (disk, inside))
    {
      *kept_path = g_steal_pointer (&disk);
      return TRUE;
    }

  basename = g_path_get_basename (disk);
  extension = strrchr (basename, '.');
  if (extension == NULL || extension == basename)
    extension = "";

  for (guint n = 1; n <= MAX_RENAME_ATTEMPTS; n++)
    {
      g_autofree char *name = n == 1 ? g_strconcat (slug, extension, NULL)
                                     : g_strdup_printf ("%s-%u%s", slug, n, extension);
      g_autofree char *kept = g_build_filename (self->root, name, NULL);

      if (rename_no_replace (disk, kept) == 0)
        {
          *kept_path = g_steal_pointer (&kept);
          return TRUE;
        }

      if (errno != EEXIST)
        {
          int errsv = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                       _("Cannot keep the disk of “%s” as “%s”: %s; nothing was deleted"),
                       slug, kept, g_strerror (errsv));
          return FALSE;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               _("Cannot keep the disk of “%s”: too many kept disks named after it in “%s”; "
                 "nothing was deleted"),
               slug, self->root);
  return FALSE;
}

/**
 * casement_vm_store_delete:
 * @self: a #CasementVmStore
 * @slug: the VM's slug
 * @keep_disk: move the disk image out of the folder first
 * @kept_disk_path: (out) (optional) (transfer full): where the disk is now,
 *   or %NULL when there was none
 * @error: a location for a #GError
 *
 * The folder first disappears from the library in one rename, then is
 * emptied; symbolic links inside are removed, not followed. Whether the VM
 * is running is for the caller to check.
 *
 * Returns: %TRUE on success
 */
gboolean
casement_vm_store_delete (CasementVmStore  *self,
                          const char       *slug,
                          gboolean          keep_disk,
                          char            **kept_disk_path,
                          GError          **error)
{
  g_autofree char *kept = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *template = NULL;
  g_autofree char *trash_name = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_STORE (self), FALSE);
  g_return_val_if_fail (slug != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (kept_disk_path != NULL)
    *kept_disk_path = NULL;

  if (!check_vm_folder (self, slug, error))
    return FALSE;

  if (keep_disk && !keep_disk_image (self, slug, &kept, error))
    return FALSE;

  /* An empty folder reserves a unique name; rename() may replace an empty
   * folder, so the VM's folder takes its place in one step. */
  dir = g_build_filename (self->root, slug, NULL);
  trash_name = g_strdup_printf (".%s.deleting-XXXXXX", slug);
  template = g_build_filename (self->root, trash_name, NULL);

  if (!g_mkdtemp_full (template, 0700) || g_rename (dir, template) != 0)
    {
      int errsv = errno;

      if (path_exists (template))
        g_rmdir (template);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot delete virtual machine “%s”: %s"), slug, g_strerror (errsv));
      return FALSE;
    }

  if (!remove_tree (template, error))
    return FALSE;

  if (kept_disk_path != NULL)
    *kept_disk_path = g_steal_pointer (&kept);

  return TRUE;
}
