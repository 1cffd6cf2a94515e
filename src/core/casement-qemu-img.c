/* casement-qemu-img.c
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

#define G_LOG_DOMAIN "casement-qemu-img"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "casement-qemu-img.h"

/* How Casement makes a system disk:
 *
 * - compat=1.1: the qcow2 version that has lazy refcounts and zero
 *   clusters (what discard=unmap and detect-zeroes=unmap in the VM's -drive
 *   turn freed guest space into).
 * - cluster_size=65536, QEMU's default, chosen deliberately: NTFS writes
 *   4 KiB clusters, so larger qcow2 clusters (1-2 MiB) waste space on every
 *   scattered first write and make each allocation slower, while smaller
 *   ones multiply metadata. With 64 KiB clusters QEMU's default L2 cache
 *   (up to 32 MiB) covers a 256 GiB disk entirely.
 * - lazy_refcounts=on: reference counts are not written on every cluster
 *   allocation, which removes most metadata writes while Windows installs
 *   and updates. The price is a refcount rebuild after a host crash, which
 *   QEMU does by itself the next time it opens the image.
 * - preallocation=off: the image is sparse and grows with what the guest
 *   writes. "metadata" would allocate all L2 tables up front, costing
 *   megabytes per 64 GiB for a speed-up of the first write to each
 *   cluster only; "falloc"/"full" would take the whole size from the host
 *   immediately, which the wizard explains it does not do. */
#define QCOW2_CREATE_OPTIONS "compat=1.1,cluster_size=65536,lazy_refcounts=on,preallocation=off"

typedef struct
{
  char    *path;
  char    *source_path;
  char    *source_format;
  guint64  size;
} ImageOp;

G_DEFINE_QUARK (casement-qemu-img-error-quark, casement_qemu_img_error)

static void
image_op_free (gpointer data)
{
  ImageOp *op = data;

  g_free (op->path);
  g_free (op->source_path);
  g_free (op->source_format);
  g_free (op);
}

static void
info_free (gpointer data)
{
  CasementQemuImgInfo *info = data;

  casement_qemu_img_info_clear (info);
  g_free (info);
}

/**
 * casement_qemu_img_info_clear:
 * @info: a #CasementQemuImgInfo
 *
 * Frees what @info holds and zeroes it; @info itself is not freed.
 */
void
casement_qemu_img_info_clear (CasementQemuImgInfo *info)
{
  g_return_if_fail (info != NULL);

  g_clear_pointer (&info->format, g_free);
  memset (info, 0, sizeof *info);
}

static char *
find_qemu_img (GError **error)
{
  const char *wanted = g_getenv ("CASEMENT_QEMU_IMG");
  char *path;

  if (wanted != NULL && wanted[0] != '\0')
    {
      if (!(path = g_find_program_in_path (wanted)))
        g_set_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_NOT_FOUND,
                     _("The qemu-img program “%s” named by CASEMENT_QEMU_IMG was not found or "
                       "cannot be run; correct or unset CASEMENT_QEMU_IMG"),
                     wanted);
      return path;
    }

  if (!(path = g_find_program_in_path ("qemu-img")))
    g_set_error_literal (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_NOT_FOUND,
                         _("The qemu-img program was not found; install it "
                           "(on Debian and Ubuntu it is in the package qemu-utils)"));
  return path;
}

/* Runs qemu-img with @args, blocking; for worker threads only. On failure
 * the error carries what qemu-img wrote to stderr. */
static gboolean
run_qemu_img (const char * const  *args,
              GBytes             **stdout_bytes,
              GCancellable        *cancellable,
              GError             **error)
{
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *qemu_img = NULL;
  g_autofree char *message = NULL;
  g_autofree char *line = NULL;
  g_auto(GStrv) argv = NULL;

  g_assert (args != NULL);

  if (!(qemu_img = find_qemu_img (error)))
    return FALSE;

  builder = g_strv_builder_new ();
  g_strv_builder_add (builder, qemu_img);
  g_strv_builder_addv (builder, (const char **)args);
  argv = g_strv_builder_end (builder);

  line = g_strjoinv (" ", argv);
  g_debug ("Running %s", line);

  if (!(subprocess = g_subprocess_newv ((const char * const *)argv,
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                        error)))
    return FALSE;

  if (!g_subprocess_communicate (subprocess, NULL, cancellable, &out, &err, &local_error))
    {
      /* communicate() gives up at cancellation while qemu-img runs on; it
       * must be gone before the caller removes the file it is writing. */
      g_subprocess_force_exit (subprocess);
      g_subprocess_wait (subprocess, NULL, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!g_subprocess_get_successful (subprocess))
    {
      if (err != NULL && g_bytes_get_size (err) > 0)
        message = g_strstrip (g_utf8_make_valid (g_bytes_get_data (err, NULL), g_bytes_get_size (err)));
      if (message == NULL || message[0] == '\0')
        {
          g_free (message);
          message = g_strdup_printf (_("qemu-img %s failed without a message"), args[0]);
        }

      if (g_str_has_prefix (message, "qemu-img: "))
        g_set_error_literal (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED, message);
      else
        g_set_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED,
                     "qemu-img: %s", message);
      return FALSE;
    }

  if (stdout_bytes != NULL)
    *stdout_bytes = g_steal_pointer (&out);

  return TRUE;
}

/* qemu-img create and convert replace an existing file without asking.
 * Creating the file first with O_EXCL claims the name atomically, so what
 * qemu-img then overwrites is our own empty file, never the user's. */
static gboolean
claim_new_file (const char  *path,
                GError     **error)
{
  int fd;

  g_assert (path != NULL);

  if ((fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
    {
      int errsv = errno;

      if (errsv == EEXIST)
        g_set_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_EXISTS,
                     _("“%s” already exists and disk images are never overwritten; "
                       "choose another file name or move the existing file away"),
                     path);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                     _("Cannot create disk image “%s”: %s"), path, g_strerror (errsv));
      return FALSE;
    }

  g_close (fd, NULL);
  return TRUE;
}

static void
forget_claimed_file (const char *path)
{
  g_assert (path != NULL);

  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Cannot remove unfinished disk image %s: %s", path, g_strerror (errno));
}

static void
create_worker (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ImageOp *op = task_data;
  g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, op->size);
  const char * const args[] = {
    "create", "-q", "-f", "qcow2", "-o", QCOW2_CREATE_OPTIONS, op->path, size, NULL
  };
  g_autoptr(GError) error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (!claim_new_file (op->path, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!run_qemu_img (args, NULL, cancellable, &error))
    {
      forget_claimed_file (op->path);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
convert_worker (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  ImageOp *op = task_data;
  const char * const args[] = {
    "convert", "-q", "-f", op->source_format, "-O", "qcow2", op->source_path, op->path, NULL
  };
  g_autoptr(GError) error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (!claim_new_file (op->path, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (!run_qemu_img (args, NULL, cancellable, &error))
    {
      forget_claimed_file (op->path);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static gboolean
parse_info (GBytes               *json,
            CasementQemuImgInfo  *info,
            GError              **error)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) parse_error = NULL;
  JsonObject *object;
  JsonObject *specific;
  JsonNode *root;

  g_assert (json != NULL);
  g_assert (info != NULL);

  if (!json_parser_load_from_data (parser, g_bytes_get_data (json, NULL), g_bytes_get_size (json), &parse_error))
    {
      g_set_error (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED,
                   _("qemu-img info printed something that is not JSON: %s"), parse_error->message);
      return FALSE;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member ((object = json_node_get_object (root)), "format") ||
      !json_object_has_member (object, "virtual-size"))
    {
      g_set_error_literal (error, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_FAILED,
                           _("qemu-img info did not report the image's format and size"));
      return FALSE;
    }

  info->format = g_strdup (json_object_get_string_member (object, "format"));
  info->virtual_size = json_object_get_int_member (object, "virtual-size");
  info->actual_size = json_object_get_int_member_with_default (object, "actual-size", 0);
  info->cluster_size = json_object_get_int_member_with_default (object, "cluster-size", 0);

  if (json_object_has_member (object, "format-specific") &&
      (specific = json_object_get_object_member (object, "format-specific")) != NULL &&
      json_object_has_member (specific, "data") &&
      (specific = json_object_get_object_member (specific, "data")) != NULL)
    info->lazy_refcounts = json_object_get_boolean_member_with_default (specific, "lazy-refcounts", FALSE);

  return TRUE;
}

static gboolean
read_info (const char           *path,
           CasementQemuImgInfo  *info,
           GCancellable         *cancellable,
           GError              **error)
{
  /* -U: reading the header of an image a running VM holds is safe and is
   * what the UI does to show disk usage. */
  const char * const args[] = { "info", "-U", "--output=json", path, NULL };
  g_autoptr(GBytes) json = NULL;

  g_assert (path != NULL);
  g_assert (info != NULL);

  return run_qemu_img (args, &json, cancellable, error) &&
         parse_info (json, info, error);
}

static void
info_worker (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ImageOp *op = task_data;
  g_autoptr(GError) error = NULL;
  CasementQemuImgInfo *info = g_new0 (CasementQemuImgInfo, 1);

  if (!read_info (op->path, info, cancellable, &error))
    {
      info_free (info);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, info, info_free);
}

static void
resize_worker (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ImageOp *op = task_data;
  g_auto(CasementQemuImgInfo) info = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *size = NULL;

  if (!read_info (op->path, &info, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (op->size < info.virtual_size)
    {
      g_autofree char *from = g_format_size_full (info.virtual_size, G_FORMAT_SIZE_IEC_UNITS);
      g_autofree char *to = g_format_size_full (op->size, G_FORMAT_SIZE_IEC_UNITS);

      g_task_return_new_error (task, CASEMENT_QEMU_IMG_ERROR, CASEMENT_QEMU_IMG_ERROR_SHRINK,
                               _("Refusing to shrink “%s” from %s to %s: whatever the guest keeps "
                                 "past the new end would be lost. Choose a size of at least %s"),
                               op->path, from, to, from);
      return;
    }

  if (op->size == info.virtual_size)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  size = g_strdup_printf ("%" G_GUINT64_FORMAT, op->size);

  {
    /* The format qemu-img found is passed on, so resize does not probe a
     * second time. */
    const char * const args[] = { "resize", "-q", "-f", info.format, op->path, size, NULL };

    if (!run_qemu_img (args, NULL, cancellable, &error))
      {
        g_task_return_error (task, g_steal_pointer (&error));
        return;
      }
  }

  g_task_return_boolean (task, TRUE);
}

/* Starts @worker on a new task for @image. The outcome reported is what
 * happened on disk: once qemu-img has finished, a late cancellation does
 * not turn a made image into a CANCELLED error. */
static void
run_op_async (GFile               *image,
              ImageOp             *op,
              GTaskThreadFunc      worker,
              gpointer             source_tag,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_assert (G_IS_FILE (image));
  g_assert (op != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, op, image_op_free);

  if (!(op->path = g_file_get_path (image)))
    {
      g_autofree char *uri = g_file_get_uri (image);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("“%s” is not a local file; qemu-img works on local files only"), uri);
      return;
    }

  g_task_run_in_thread (task, worker);
}

/**
 * casement_qemu_img_create_async:
 * @image: the new image
 * @size_bytes: its virtual size
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Creates a sparse qcow2 image (options explained at the top of this
 * file). Fails with %CASEMENT_QEMU_IMG_ERROR_EXISTS when @image exists;
 * a failed or cancelled creation leaves no file behind.
 */
void
casement_qemu_img_create_async (GFile               *image,
                                guint64              size_bytes,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  ImageOp *op;

  g_return_if_fail (G_IS_FILE (image));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (ImageOp, 1);
  op->size = size_bytes;
  run_op_async (image, op, create_worker, casement_qemu_img_create_async,
                cancellable, callback, user_data);
}

gboolean
casement_qemu_img_create_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_qemu_img_create_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * casement_qemu_img_convert_async:
 * @source: the image to copy
 * @source_format: its format, e.g. "raw"; given, never probed
 * @dest: the new qcow2 image
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Fails with %CASEMENT_QEMU_IMG_ERROR_EXISTS when @dest exists; a failed
 * or cancelled conversion leaves no file behind.
 */
void
casement_qemu_img_convert_async (GFile               *source,
                                 const char          *source_format,
                                 GFile               *dest,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ImageOp *op;

  g_return_if_fail (G_IS_FILE (source));
  g_return_if_fail (source_format != NULL && source_format[0] != '\0');
  g_return_if_fail (G_IS_FILE (dest));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (ImageOp, 1);
  op->source_format = g_strdup (source_format);

  if (!(op->source_path = g_file_get_path (source)))
    {
      g_autofree char *uri = g_file_get_uri (source);

      image_op_free (op);
      task = g_task_new (NULL, cancellable, callback, user_data);
      g_task_set_source_tag (task, casement_qemu_img_convert_async);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("“%s” is not a local file; qemu-img works on local files only"), uri);
      return;
    }

  run_op_async (dest, op, convert_worker, casement_qemu_img_convert_async,
                cancellable, callback, user_data);
}

gboolean
casement_qemu_img_convert_finish (GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_qemu_img_convert_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * casement_qemu_img_info_async:
 * @image: an image
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Reads the image's format and sizes; works on an image a running VM uses.
 */
void
casement_qemu_img_info_async (GFile               *image,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (G_IS_FILE (image));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  run_op_async (image, g_new0 (ImageOp, 1), info_worker, casement_qemu_img_info_async,
                cancellable, callback, user_data);
}

/**
 * casement_qemu_img_info_finish:
 * @result: the #GAsyncResult
 * @info: (out caller-allocates): filled on success; clear it with
 *   casement_qemu_img_info_clear()
 * @error: a location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
casement_qemu_img_info_finish (GAsyncResult         *result,
                               CasementQemuImgInfo  *info,
                               GError              **error)
{
  CasementQemuImgInfo *found;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_qemu_img_info_async, FALSE);
  g_return_val_if_fail (info != NULL, FALSE);

  if (!(found = g_task_propagate_pointer (G_TASK (result), error)))
    return FALSE;

  *info = *found;
  g_free (found);
  return TRUE;
}

/**
 * casement_qemu_img_resize_async:
 * @image: an image no VM is using
 * @new_size_bytes: the new virtual size
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Grows @image. A smaller size fails with %CASEMENT_QEMU_IMG_ERROR_SHRINK
 * and changes nothing; the same size succeeds without touching the image.
 */
void
casement_qemu_img_resize_async (GFile               *image,
                                guint64              new_size_bytes,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  ImageOp *op;

  g_return_if_fail (G_IS_FILE (image));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  op = g_new0 (ImageOp, 1);
  op->size = new_size_bytes;
  run_op_async (image, op, resize_worker, casement_qemu_img_resize_async,
                cancellable, callback, user_data);
}

gboolean
casement_qemu_img_resize_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_qemu_img_resize_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
