/* casement-iso.c
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

#define G_LOG_DOMAIN "casement-iso"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "casement-iso.h"

/* ISO 9660 (ECMA-119) with Joliet, and the read-only subset of UDF
 * (ECMA-167 / OSTA UDF 1.02-2.01) that disc images use: one type 1
 * partition map, short or long allocation descriptors, embedded data. */

#define SECTOR_SIZE        2048
#define FIRST_VD_SECTOR    16
#define MAX_VD_SECTORS     64
#define UDF_ANCHOR_SECTOR  256
/* Directories on real discs are a few KiB; a bigger one is damage. */
#define MAX_DIR_SIZE       (16 * 1024 * 1024)
#define MAX_AD_CHAIN       1024
/* What the writer accepts: level 2 names, and a root folder of one
 * sector (two records of 34 bytes, then at most 94 per file). */
#define MAX_WRITTEN_NAME   30
#define MAX_WRITTEN_FILES  16

/* UDF descriptor tag identifiers */
enum {
  UDF_TAG_ANCHOR      = 2,
  UDF_TAG_PARTITION   = 5,
  UDF_TAG_LOGICAL_VOL = 6,
  UDF_TAG_TERMINATING = 8,
  UDF_TAG_FILE_SET    = 256,
  UDF_TAG_FILE_ID     = 257,
  UDF_TAG_ALLOC_EXT   = 258,
  UDF_TAG_FILE_ENTRY  = 261,
  UDF_TAG_EXT_ENTRY   = 266,
};

typedef struct
{
  guint64  offset;   /* bytes from the start of the image */
  guint64  length;
  gboolean sparse;   /* allocated but not recorded: reads as zeros */
} IsoExtent;

typedef struct _IsoNode IsoNode;

struct _IsoNode
{
  char      *name;
  char      *key;        /* case-folded name, for lookups */
  GPtrArray *children;   /* of IsoNode; NULL until the folder is read */
  GArray    *extents;    /* of IsoExtent; NULL until a UDF entry is read */
  guint64    size;
  guint32    icb_block;  /* UDF: logical block of its file entry */
  guint16    icb_part;   /* UDF: partition reference of that block */
  guint      is_dir : 1;
  guint      more_extents : 1;  /* ISO 9660 multi-extent record still open */
};

struct _CasementIso
{
  GObject                parent_instance;

  GFile                 *file;
  GInputStream          *stream;
  IsoNode               *root;
  char                  *volume_id;
  char                  *publisher_id;
  GArray                *udf_partitions;  /* guint32 start sector per partition reference */

  guint64                image_size;
  CasementIsoFileSystem  file_system;
};

G_DEFINE_FINAL_TYPE (CasementIso, casement_iso, G_TYPE_OBJECT)

G_DEFINE_QUARK (casement-iso-error-quark, casement_iso_error)

static void
iso_node_free (IsoNode *node)
{
  if (node == NULL)
    return;

  g_free (node->name);
  g_free (node->key);
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_clear_pointer (&node->extents, g_array_unref);
  g_free (node);
}

static IsoNode *
iso_node_new (const char *name,
              gboolean    is_dir)
{
  IsoNode *node = g_new0 (IsoNode, 1);

  node->name = g_strdup (name);
  node->key = g_utf8_casefold (name, -1);
  node->is_dir = !!is_dir;

  return node;
}

static guint16
read_le16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
read_le32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint64
read_le64 (const guint8 *p)
{
  return (guint64) read_le32 (p) | ((guint64) read_le32 (p + 4) << 32);
}

static void
casement_iso_finalize (GObject *object)
{
  CasementIso *self = (CasementIso *) object;

  g_clear_object (&self->stream);
  g_clear_object (&self->file);
  g_clear_pointer (&self->root, iso_node_free);
  g_clear_pointer (&self->volume_id, g_free);
  g_clear_pointer (&self->publisher_id, g_free);
  g_clear_pointer (&self->udf_partitions, g_array_unref);

  G_OBJECT_CLASS (casement_iso_parent_class)->finalize (object);
}

static void
casement_iso_class_init (CasementIsoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = casement_iso_finalize;
}

static void
casement_iso_init (CasementIso *self)
{
}

static gboolean
set_corrupt (CasementIso  *self,
             GError      **error,
             const char   *what)
{
  g_autofree char *name = g_file_get_parse_name (self->file);

  g_debug ("%s: %s", name, what);
  g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_CORRUPT,
               _("The disc image “%s” is damaged or in a form Casement cannot read. "
                 "Download it again."),
               name);
  return FALSE;
}

/* Reads exactly @length bytes at @offset, or fails naming the image. */
static gboolean
read_at (CasementIso   *self,
         guint64        offset,
         void          *buffer,
         gsize          length,
         GCancellable  *cancellable,
         GError       **error)
{
  gsize n_read = 0;

  g_assert (CASEMENT_IS_ISO (self));

  if (offset > self->image_size || length > self->image_size - offset)
    return set_corrupt (self, error, "data past the end of the file");

  if (!g_seekable_seek (G_SEEKABLE (self->stream), (goffset) offset, G_SEEK_SET, cancellable, error) ||
      !g_input_stream_read_all (self->stream, buffer, length, &n_read, cancellable, error))
    return FALSE;

  if (n_read != length)
    return set_corrupt (self, error, "the file ends early");

  return TRUE;
}

/* Strips the ";1" version and the lone trailing dot ISO 9660 adds. */
static void
trim_iso_name (char *name)
{
  char *semicolon = strrchr (name, ';');
  gsize len;

  if (semicolon != NULL)
    *semicolon = '\0';

  len = strlen (name);
  if (len > 1 && name[len - 1] == '.')
    name[len - 1] = '\0';
}

/* d-characters or UCS-2 padded with spaces, as volume descriptors store them. */
static char *
decode_descriptor_text (const guint8 *data,
                        gsize         length,
                        gboolean      ucs2)
{
  g_autofree char *text = NULL;

  if (ucs2)
    text = g_convert ((const char *) data, length & ~(gsize) 1, "UTF-8", "UTF-16BE", NULL, NULL, NULL);
  else
    text = g_convert ((const char *) data, length, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);

  if (text == NULL)
    return g_strdup ("");

  g_strstrip (text);
  return g_steal_pointer (&text);
}

/* ---- ISO 9660 / Joliet ------------------------------------------------- */

/* The Rock Ridge "NM" (alternate name) entries in a record's system use
 * area, joined; NULL when there are none. virtio-win discs are made with
 * `mkisofs -r` and no Joliet, so this is where their true names can be. */
static char *
rock_ridge_name (const guint8 *rec,
                 guint         rec_len)
{
  g_autoptr(GString) name = NULL;
  guint name_len = rec[32];
  guint pos = 33 + name_len + (name_len % 2 == 0 ? 1 : 0);

  while (pos + 4 <= rec_len)
    {
      const guint8 *entry = rec + pos;
      guint entry_len = entry[2];

      if (entry_len < 4 || pos + entry_len > rec_len)
        break;

      /* Flags 0x02 and 0x04 stand for "." and "..", which we skip anyway. */
      if (entry[0] == 'N' && entry[1] == 'M' && entry_len >= 5 && (entry[4] & 0x06) == 0)
        {
          if (name == NULL)
            name = g_string_new (NULL);
          g_string_append_len (name, (const char *) entry + 5, entry_len - 5);
        }

      pos += entry_len;
    }

  if (name == NULL || name->len == 0 || !g_utf8_validate (name->str, name->len, NULL))
    return NULL;

  return g_string_free (g_steal_pointer (&name), FALSE);
}

static gboolean
iso9660_read_dir (CasementIso   *self,
                  IsoNode       *dir,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) iso_node_free);
  g_autofree guint8 *data = NULL;
  const IsoExtent *extent;
  IsoNode *open_node = NULL;
  gsize pos = 0;

  g_assert (dir->is_dir);
  g_assert (dir->extents != NULL && dir->extents->len == 1);

  extent = &g_array_index (dir->extents, IsoExtent, 0);
  if (extent->length > MAX_DIR_SIZE)
    return set_corrupt (self, error, "a folder is too large");

  data = g_malloc (extent->length);
  if (!read_at (self, extent->offset, data, extent->length, cancellable, error))
    return FALSE;

  while (pos < extent->length)
    {
      const guint8 *rec = data + pos;
      guint rec_len = rec[0];
      guint name_len;
      guint8 flags;
      IsoExtent file_extent = { 0, };
      g_autofree char *name = NULL;
      gboolean from_rock_ridge = FALSE;

      /* Records never cross a sector: a zero length pads to the next one. */
      if (rec_len == 0)
        {
          pos = (pos / SECTOR_SIZE + 1) * SECTOR_SIZE;
          continue;
        }

      if (rec_len < 34 || pos + rec_len > extent->length || 33 + (guint) rec[32] > rec_len)
        return set_corrupt (self, error, "a folder record is malformed");

      name_len = rec[32];
      flags = rec[25];
      file_extent.offset = (guint64) read_le32 (rec + 2) * SECTOR_SIZE;
      file_extent.length = read_le32 (rec + 10);
      pos += rec_len;

      /* The "." and ".." entries */
      if (name_len == 1 && (rec[33] == 0 || rec[33] == 1))
        continue;

      /* Associated files (Apple resource forks) are not files of their own. */
      if (flags & 0x04)
        continue;

      if (self->file_system == CASEMENT_ISO_FILE_SYSTEM_JOLIET)
        name = g_convert ((const char *) rec + 33, name_len & ~1u, "UTF-8", "UTF-16BE", NULL, NULL, NULL);
      else if ((name = rock_ridge_name (rec, rec_len)))
        from_rock_ridge = TRUE;
      else
        name = g_convert ((const char *) rec + 33, name_len, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);

      if (name == NULL)
        return set_corrupt (self, error, "a file name is not valid text");

      /* Rock Ridge names are the true ones, with no version to strip. */
      if (!from_rock_ridge)
        trim_iso_name (name);

      /* A file over 4 GiB is several records with the same name, all
       * but the last flagged as having more. */
      if (open_node != NULL && g_str_equal (open_node->name, name))
        {
          g_array_append_val (open_node->extents, file_extent);
          open_node->size += file_extent.length;
        }
      else
        {
          IsoNode *node = iso_node_new (name, (flags & 0x02) != 0);

          node->extents = g_array_new (FALSE, FALSE, sizeof (IsoExtent));
          g_array_append_val (node->extents, file_extent);
          node->size = file_extent.length;
          g_ptr_array_add (children, node);
          open_node = node;
        }

      open_node->more_extents = (flags & 0x80) != 0;
      if (!open_node->more_extents)
        open_node = NULL;
    }

  dir->children = g_steal_pointer (&children);
  return TRUE;
}

/* ---- UDF --------------------------------------------------------------- */

static gboolean
udf_tag_valid (const guint8 *block,
               guint16       tag_id,
               guint32       location)
{
  guint8 sum = 0;

  for (guint i = 0; i < 16; i++)
    if (i != 4)
      sum += block[i];

  return sum == block[4] && read_le16 (block) == tag_id && read_le32 (block + 12) == location;
}

static gboolean
udf_block_offset (CasementIso *self,
                  guint16      part,
                  guint32      block,
                  guint64     *offset)
{
  if (self->udf_partitions == NULL || part >= self->udf_partitions->len)
    return FALSE;

  *offset = ((guint64) g_array_index (self->udf_partitions, guint32, part) + block) * SECTOR_SIZE;
  return TRUE;
}

static gboolean
udf_read_block (CasementIso   *self,
                guint16        part,
                guint32        block,
                guint16        tag_id,
                guint8        *buffer,
                guint64       *offset,
                GCancellable  *cancellable,
                GError       **error)
{
  if (!udf_block_offset (self, part, block, offset))
    return set_corrupt (self, error, "a UDF address names no partition");

  if (!read_at (self, *offset, buffer, SECTOR_SIZE, cancellable, error))
    return FALSE;

  if (!udf_tag_valid (buffer, tag_id, block))
    return set_corrupt (self, error, "a UDF descriptor is invalid");

  return TRUE;
}

/* Adds the extents of a run of allocation descriptors to @extents. Returns
 * the continuation (next run of descriptors) in @next_* when there is one. */
static gboolean
udf_parse_ads (CasementIso   *self,
               const guint8  *ads,
               gsize          length,
               gboolean       long_ads,
               guint16        part,
               GArray        *extents,
               gboolean      *has_next,
               guint32       *next_block,
               guint16       *next_part,
               GError       **error)
{
  gsize ad_size = long_ads ? 16 : 8;

  *has_next = FALSE;

  for (gsize pos = 0; pos + ad_size <= length; pos += ad_size)
    {
      guint32 raw = read_le32 (ads + pos);
      guint32 extent_length = raw & 0x3FFFFFFF;
      guint type = raw >> 30;
      guint32 block = read_le32 (ads + pos + 4);
      guint16 extent_part = long_ads ? read_le16 (ads + pos + 8) : part;
      IsoExtent extent = { 0, };

      if (extent_length == 0)
        break;

      if (type == 3)
        {
          *has_next = TRUE;
          *next_block = block;
          *next_part = extent_part;
          return TRUE;
        }

      extent.length = extent_length;
      extent.sparse = type != 0;
      if (!extent.sparse && !udf_block_offset (self, extent_part, block, &extent.offset))
        return set_corrupt (self, error, "a UDF extent names no partition");

      g_array_append_val (extents, extent);
    }

  return TRUE;
}

/* Reads the (extended) file entry of @node: size, type and where its
 * data lies. */
static gboolean
udf_resolve (CasementIso   *self,
             IsoNode       *node,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GArray) extents = g_array_new (FALSE, FALSE, sizeof (IsoExtent));
  guint8 block[SECTOR_SIZE];
  guint64 block_offset;
  guint16 tag_id;
  guint16 flags;
  guint32 ea_length;
  guint32 ad_length;
  gsize header;
  gboolean has_next;
  guint32 next_block;
  guint16 next_part;
  guint8 file_type;

  if (node->extents != NULL)
    return TRUE;

  if (!udf_block_offset (self, node->icb_part, node->icb_block, &block_offset))
    return set_corrupt (self, error, "a UDF address names no partition");
  if (!read_at (self, block_offset, block, sizeof block, cancellable, error))
    return FALSE;

  tag_id = read_le16 (block);
  if (tag_id == UDF_TAG_FILE_ENTRY)
    header = 176;
  else if (tag_id == UDF_TAG_EXT_ENTRY)
    header = 216;
  else
    return set_corrupt (self, error, "a UDF file entry is missing");

  if (!udf_tag_valid (block, tag_id, node->icb_block))
    return set_corrupt (self, error, "a UDF file entry is invalid");

  file_type = block[27];
  flags = read_le16 (block + 34);
  node->size = read_le64 (block + 56);
  ea_length = read_le32 (block + header - 8);
  ad_length = read_le32 (block + header - 4);
  node->is_dir = file_type == 4;

  if (ea_length > SECTOR_SIZE || ad_length > SECTOR_SIZE || header + ea_length + ad_length > SECTOR_SIZE)
    return set_corrupt (self, error, "a UDF file entry is too long");

  switch (flags & 0x7)
    {
    case 0: /* short_ad */
    case 1: /* long_ad */
      if (!udf_parse_ads (self, block + header + ea_length, ad_length, (flags & 0x7) == 1,
                          node->icb_part, extents, &has_next, &next_block, &next_part, error))
        return FALSE;

      for (guint hops = 0; has_next; hops++)
        {
          guint32 aed_length;

          if (hops == MAX_AD_CHAIN)
            return set_corrupt (self, error, "a UDF extent chain does not end");

          if (!udf_read_block (self, next_part, next_block, UDF_TAG_ALLOC_EXT, block, &block_offset,
                               cancellable, error))
            return FALSE;

          aed_length = read_le32 (block + 20);
          if (aed_length > SECTOR_SIZE - 24)
            return set_corrupt (self, error, "a UDF extent list is too long");

          if (!udf_parse_ads (self, block + 24, aed_length, (flags & 0x7) == 1,
                              next_part, extents, &has_next, &next_block, &next_part, error))
            return FALSE;
        }
      break;

    case 3: /* the data sits inside the entry itself */
      {
        IsoExtent extent = { block_offset + header + ea_length, ad_length, FALSE };

        g_array_append_val (extents, extent);
      }
      break;

    default:
      return set_corrupt (self, error, "a UDF file uses extended allocation descriptors");
    }

  node->extents = g_steal_pointer (&extents);
  return TRUE;
}

/* Copies up to @length bytes of @node's data from @offset into @buffer;
 * returns how many it copied. */
static gboolean
node_read (CasementIso   *self,
           IsoNode       *node,
           guint64        offset,
           guint8        *buffer,
           gsize          length,
           gsize         *n_read,
           GCancellable  *cancellable,
           GError       **error)
{
  guint64 extent_start = 0;
  gsize done = 0;

  if (offset >= node->size)
    {
      *n_read = 0;
      return TRUE;
    }

  length = MIN (length, node->size - offset);

  for (guint i = 0; i < node->extents->len && done < length; i++)
    {
      const IsoExtent *extent = &g_array_index (node->extents, IsoExtent, i);
      guint64 extent_end = extent_start + extent->length;

      if (offset + done < extent_end)
        {
          guint64 within = offset + done - extent_start;
          gsize chunk = MIN (length - done, extent->length - within);

          if (extent->sparse)
            memset (buffer + done, 0, chunk);
          else if (!read_at (self, extent->offset + within, buffer + done, chunk, cancellable, error))
            return FALSE;

          done += chunk;
        }

      extent_start = extent_end;
    }

  if (done < length)
    return set_corrupt (self, error, "a file is shorter than its size");

  *n_read = done;
  return TRUE;
}

static gboolean
udf_read_dir (CasementIso   *self,
              IsoNode       *dir,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func ((GDestroyNotify) iso_node_free);
  g_autofree guint8 *data = NULL;
  gsize length;
  gsize pos = 0;

  if (!udf_resolve (self, dir, cancellable, error))
    return FALSE;

  if (dir->size > MAX_DIR_SIZE)
    return set_corrupt (self, error, "a folder is too large");

  data = g_malloc (dir->size + 1);
  if (!node_read (self, dir, 0, data, dir->size, &length, cancellable, error))
    return FALSE;

  while (pos + 38 <= length)
    {
      const guint8 *fid = data + pos;
      guint8 characteristics = fid[18];
      guint name_len = fid[19];
      guint iu_len = read_le16 (fid + 36);
      gsize fid_len = (38 + iu_len + name_len + 3) & ~(gsize) 3;
      const guint8 *name_data = fid + 38 + iu_len;
      g_autofree char *name = NULL;
      IsoNode *node;

      if (read_le16 (fid) != UDF_TAG_FILE_ID || pos + 38 + iu_len + name_len > length)
        return set_corrupt (self, error, "a UDF folder entry is malformed");

      pos += fid_len;

      /* Deleted entries and the parent link */
      if (characteristics & (0x04 | 0x08) || name_len == 0)
        continue;

      /* OSTA compressed unicode: a byte of 8 or 16 bits per character, then the text. */
      if (name_data[0] == 8)
        name = g_convert ((const char *) name_data + 1, name_len - 1,
                          "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
      else if (name_data[0] == 16)
        name = g_convert ((const char *) name_data + 1, (name_len - 1) & ~1u,
                          "UTF-8", "UTF-16BE", NULL, NULL, NULL);

      if (name == NULL)
        return set_corrupt (self, error, "a UDF file name is not valid text");

      node = iso_node_new (name, (characteristics & 0x02) != 0);
      node->icb_block = read_le32 (fid + 24);
      node->icb_part = read_le16 (fid + 28);
      g_ptr_array_add (children, node);
    }

  dir->children = g_steal_pointer (&children);
  return TRUE;
}

/* Finds the root folder of the UDF file system, if the image has one that
 * this reader understands; FALSE (without error) otherwise. */
static gboolean
udf_open (CasementIso   *self,
          gboolean       has_nsr,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GArray) part_numbers = g_array_new (FALSE, FALSE, sizeof (guint16));
  g_autoptr(GHashTable) part_starts = g_hash_table_new (NULL, NULL);
  guint8 block[SECTOR_SIZE];
  guint32 vds_start;
  guint32 vds_sectors;
  guint32 fsd_block = 0;
  guint16 fsd_part = 0;
  gboolean have_lvd = FALSE;
  guint64 fsd_offset;
  IsoNode *root;

  if (!has_nsr || self->image_size < (guint64) (UDF_ANCHOR_SECTOR + 1) * SECTOR_SIZE)
    return FALSE;

  if (!read_at (self, (guint64) UDF_ANCHOR_SECTOR * SECTOR_SIZE, block, sizeof block, cancellable, error))
    return FALSE;
  if (!udf_tag_valid (block, UDF_TAG_ANCHOR, UDF_ANCHOR_SECTOR))
    return FALSE;

  vds_sectors = read_le32 (block + 16) / SECTOR_SIZE;
  vds_start = read_le32 (block + 20);

  for (guint32 i = 0; i < MIN (vds_sectors, 64u); i++)
    {
      guint16 tag_id;

      if (!read_at (self, (guint64) (vds_start + i) * SECTOR_SIZE, block, sizeof block, cancellable, error))
        return FALSE;

      tag_id = read_le16 (block);
      if (tag_id == 0 || tag_id == UDF_TAG_TERMINATING)
        break;

      if (!udf_tag_valid (block, tag_id, vds_start + i))
        return FALSE;

      if (tag_id == UDF_TAG_PARTITION)
        {
          g_hash_table_insert (part_starts,
                               GUINT_TO_POINTER (read_le16 (block + 22)),
                               GUINT_TO_POINTER (read_le32 (block + 188)));
        }
      else if (tag_id == UDF_TAG_LOGICAL_VOL)
        {
          guint32 n_maps = read_le32 (block + 268);
          gsize map_pos = 440;

          if (read_le32 (block + 212) != SECTOR_SIZE)
            {
              g_debug ("UDF logical block size %u is not supported", read_le32 (block + 212));
              return FALSE;
            }

          fsd_block = read_le32 (block + 248 + 4);
          fsd_part = read_le16 (block + 248 + 8);

          for (guint32 m = 0; m < n_maps; m++)
            {
              guint16 number;

              /* Type 2 maps (virtual, sparable, metadata partitions) are
               * for rewritable media and UDF 2.5; disc images do not use them. */
              if (map_pos + 6 > SECTOR_SIZE || block[map_pos] != 1 || block[map_pos + 1] != 6)
                {
                  g_debug ("UDF partition map of type %u is not supported", block[map_pos]);
                  return FALSE;
                }

              number = read_le16 (block + map_pos + 4);
              g_array_append_val (part_numbers, number);
              map_pos += 6;
            }

          have_lvd = TRUE;
        }
    }

  if (!have_lvd || part_numbers->len == 0)
    return FALSE;

  self->udf_partitions = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < part_numbers->len; i++)
    {
      gpointer start;
      guint32 sector;

      if (!g_hash_table_lookup_extended (part_starts,
                                         GUINT_TO_POINTER (g_array_index (part_numbers, guint16, i)),
                                         NULL, &start))
        {
          g_clear_pointer (&self->udf_partitions, g_array_unref);
          return FALSE;
        }

      sector = GPOINTER_TO_UINT (start);
      g_array_append_val (self->udf_partitions, sector);
    }

  if (!udf_read_block (self, fsd_part, fsd_block, UDF_TAG_FILE_SET, block, &fsd_offset, cancellable, error))
    {
      g_clear_pointer (&self->udf_partitions, g_array_unref);
      return FALSE;
    }

  root = iso_node_new ("", TRUE);
  root->icb_block = read_le32 (block + 400 + 4);
  root->icb_part = read_le16 (block + 400 + 8);

  if (!udf_resolve (self, root, cancellable, error) || !root->is_dir)
    {
      iso_node_free (root);
      g_clear_pointer (&self->udf_partitions, g_array_unref);
      return FALSE;
    }

  self->root = root;
  self->file_system = CASEMENT_ISO_FILE_SYSTEM_UDF;
  return TRUE;
}

/* ---- Public reading API ------------------------------------------------ */

static gboolean
is_joliet_escape (const guint8 *escape)
{
  return escape[0] == '%' && escape[1] == '/' && (escape[2] == '@' || escape[2] == 'C' || escape[2] == 'E');
}

static IsoNode *
iso9660_root_from_record (const guint8 *record)
{
  IsoNode *root = iso_node_new ("", TRUE);
  IsoExtent extent = { (guint64) read_le32 (record + 2) * SECTOR_SIZE, read_le32 (record + 10), FALSE };

  root->extents = g_array_new (FALSE, FALSE, sizeof (IsoExtent));
  g_array_append_val (root->extents, extent);
  root->size = extent.length;

  return root;
}

CasementIso *
casement_iso_open (GFile         *file,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(CasementIso) self = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) udf_error = NULL;
  guint8 primary[SECTOR_SIZE];
  guint8 joliet[SECTOR_SIZE];
  gboolean have_primary = FALSE;
  gboolean have_joliet = FALSE;
  gboolean have_nsr = FALSE;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(stream = g_file_read (file, cancellable, error)))
    return NULL;

  if (!(info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE, cancellable, error)))
    return NULL;

  self = g_object_new (CASEMENT_TYPE_ISO, NULL);
  self->file = g_object_ref (file);
  self->stream = G_INPUT_STREAM (g_steal_pointer (&stream));
  self->image_size = (guint64) g_file_info_get_size (info);

  /* Volume descriptors (ISO 9660) and the volume recognition sequence
   * (UDF: BEA01, NSR02/NSR03, TEA01) share the sectors from 16 on. */
  for (guint i = 0; i < MAX_VD_SECTORS; i++)
    {
      guint8 block[SECTOR_SIZE];
      guint64 offset = (guint64) (FIRST_VD_SECTOR + i) * SECTOR_SIZE;

      if (offset + SECTOR_SIZE > self->image_size)
        break;

      if (!read_at (self, offset, block, sizeof block, cancellable, error))
        return NULL;

      if (memcmp (block + 1, "CD001", 5) == 0)
        {
          if (block[0] == 1 && !have_primary)
            {
              memcpy (primary, block, sizeof block);
              have_primary = TRUE;
            }
          else if (block[0] == 2 && !have_joliet && is_joliet_escape (block + 88))
            {
              memcpy (joliet, block, sizeof block);
              have_joliet = TRUE;
            }
        }
      else if (memcmp (block + 1, "NSR02", 5) == 0 || memcmp (block + 1, "NSR03", 5) == 0)
        {
          have_nsr = TRUE;
        }
      else if (memcmp (block + 1, "BEA01", 5) != 0 && memcmp (block + 1, "TEA01", 5) != 0 &&
               memcmp (block + 1, "BOOT2", 5) != 0)
        {
          break;
        }
    }

  if (!have_primary)
    {
      g_autofree char *name = g_file_get_parse_name (file);

      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_ISO,
                   _("“%s” is not a disc image: it has no ISO 9660 volume descriptor"),
                   name);
      return NULL;
    }

  if (read_le16 (primary + 128) != SECTOR_SIZE)
    {
      set_corrupt (self, error, "its block size is not 2048 bytes");
      return NULL;
    }

  self->volume_id = decode_descriptor_text (primary + 40, 32, FALSE);
  self->publisher_id = decode_descriptor_text (primary + 318, 128, FALSE);

  if (udf_open (self, have_nsr, cancellable, &udf_error))
    return g_steal_pointer (&self);

  if (udf_error != NULL)
    {
      if (g_error_matches (udf_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&udf_error));
          return NULL;
        }
      g_debug ("Not using the UDF tree: %s", udf_error->message);
    }

  if (have_joliet)
    {
      self->file_system = CASEMENT_ISO_FILE_SYSTEM_JOLIET;
      self->root = iso9660_root_from_record (joliet + 156);
    }
  else
    {
      self->file_system = CASEMENT_ISO_FILE_SYSTEM_ISO9660;
      self->root = iso9660_root_from_record (primary + 156);
    }

  return g_steal_pointer (&self);
}

const char *
casement_iso_get_volume_id (CasementIso *self)
{
  g_return_val_if_fail (CASEMENT_IS_ISO (self), NULL);

  return self->volume_id;
}

const char *
casement_iso_get_publisher_id (CasementIso *self)
{
  g_return_val_if_fail (CASEMENT_IS_ISO (self), NULL);

  return self->publisher_id;
}

CasementIsoFileSystem
casement_iso_get_file_system (CasementIso *self)
{
  g_return_val_if_fail (CASEMENT_IS_ISO (self), CASEMENT_ISO_FILE_SYSTEM_ISO9660);

  return self->file_system;
}

static gboolean
ensure_children (CasementIso   *self,
                 IsoNode       *dir,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_assert (dir->is_dir);

  if (dir->children != NULL)
    return TRUE;

  if (self->file_system == CASEMENT_ISO_FILE_SYSTEM_UDF)
    return udf_read_dir (self, dir, cancellable, error);

  return iso9660_read_dir (self, dir, cancellable, error);
}

static IsoNode *
lookup (CasementIso   *self,
        const char    *path,
        GCancellable  *cancellable,
        GError       **error)
{
  g_auto(GStrv) parts = g_strsplit_set (path, "/\\", -1);
  IsoNode *node = self->root;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *key = NULL;
      IsoNode *found = NULL;

      if (parts[i][0] == '\0' || g_str_equal (parts[i], "."))
        continue;

      if (!ensure_children (self, node, cancellable, error))
        return NULL;

      key = g_utf8_casefold (parts[i], -1);
      for (guint j = 0; j < node->children->len; j++)
        {
          IsoNode *child = g_ptr_array_index (node->children, j);

          if (g_str_equal (child->key, key))
            {
              found = child;
              break;
            }
        }

      if (found == NULL || (parts[i + 1] != NULL && !found->is_dir))
        {
          g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND,
                       "No “%s” in the disc image", path);
          return NULL;
        }

      node = found;
    }

  if (self->file_system == CASEMENT_ISO_FILE_SYSTEM_UDF && !udf_resolve (self, node, cancellable, error))
    return NULL;

  return node;
}

char **
casement_iso_list_dir (CasementIso   *self,
                       const char    *path,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  IsoNode *dir;

  g_return_val_if_fail (CASEMENT_IS_ISO (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(dir = lookup (self, path, cancellable, error)))
    return NULL;

  if (!dir->is_dir)
    {
      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND,
                   "“%s” in the disc image is not a folder", path);
      return NULL;
    }

  if (!ensure_children (self, dir, cancellable, error))
    return NULL;

  builder = g_strv_builder_new ();
  for (guint i = 0; i < dir->children->len; i++)
    g_strv_builder_add (builder, ((IsoNode *) g_ptr_array_index (dir->children, i))->name);

  return g_strv_builder_end (builder);
}

gboolean
casement_iso_query (CasementIso   *self,
                    const char    *path,
                    gboolean      *is_dir,
                    guint64       *size,
                    GCancellable  *cancellable,
                    GError       **error)
{
  IsoNode *node;

  g_return_val_if_fail (CASEMENT_IS_ISO (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(node = lookup (self, path, cancellable, error)))
    return FALSE;

  if (is_dir != NULL)
    *is_dir = node->is_dir;
  if (size != NULL)
    *size = node->size;

  return TRUE;
}

GBytes *
casement_iso_read (CasementIso   *self,
                   const char    *path,
                   guint64        offset,
                   gsize          length,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autofree guint8 *buffer = NULL;
  IsoNode *node;
  gsize n_read = 0;

  g_return_val_if_fail (CASEMENT_IS_ISO (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(node = lookup (self, path, cancellable, error)))
    return NULL;

  if (node->is_dir)
    {
      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_NOT_FOUND,
                   "“%s” in the disc image is a folder, not a file", path);
      return NULL;
    }

  if (offset < node->size)
    length = MIN (length, node->size - offset);
  else
    length = 0;

  buffer = g_malloc (length + 1);
  if (!node_read (self, node, offset, buffer, length, &n_read, cancellable, error))
    return NULL;

  return g_bytes_new_take (g_steal_pointer (&buffer), n_read);
}

/* ---- Writing ----------------------------------------------------------- */

enum {
  W_PRIMARY_VD = 16,
  W_JOLIET_VD,
  W_TERMINATOR,
  W_PRIMARY_PATH_L,
  W_PRIMARY_PATH_M,
  W_JOLIET_PATH_L,
  W_JOLIET_PATH_M,
  W_PRIMARY_ROOT,
  W_JOLIET_ROOT,
  W_FILE_DATA,
};

static void
put_le16 (guint8  *p,
          guint16  value)
{
  p[0] = value & 0xff;
  p[1] = value >> 8;
}

static void
put_be16 (guint8  *p,
          guint16  value)
{
  p[0] = value >> 8;
  p[1] = value & 0xff;
}

static void
put_le32 (guint8  *p,
          guint32  value)
{
  for (guint i = 0; i < 4; i++)
    p[i] = (value >> (8 * i)) & 0xff;
}

static void
put_be32 (guint8  *p,
          guint32  value)
{
  for (guint i = 0; i < 4; i++)
    p[3 - i] = (value >> (8 * i)) & 0xff;
}

static void
put_both16 (guint8  *p,
            guint16  value)
{
  put_le16 (p, value);
  put_be16 (p + 2, value);
}

static void
put_both32 (guint8  *p,
            guint32  value)
{
  put_le32 (p, value);
  put_be32 (p + 4, value);
}

/* Space-padded text: d-characters for ISO 9660, UCS-2BE for Joliet. */
static void
put_text (guint8     *p,
          gsize       field_length,
          const char *text,
          gboolean    ucs2)
{
  gsize len = strlen (text);

  if (ucs2)
    {
      for (gsize i = 0; i + 1 < field_length; i += 2)
        put_be16 (p + i, i / 2 < len ? (guint8) text[i / 2] : ' ');
    }
  else
    {
      memset (p, ' ', field_length);
      memcpy (p, text, MIN (len, field_length));
    }
}

static void
put_dir_date (guint8    *p,
              GDateTime *now)
{
  p[0] = g_date_time_get_year (now) - 1900;
  p[1] = g_date_time_get_month (now);
  p[2] = g_date_time_get_day_of_month (now);
  p[3] = g_date_time_get_hour (now);
  p[4] = g_date_time_get_minute (now);
  p[5] = g_date_time_get_second (now);
  p[6] = 0;  /* UTC */
}

static void
put_vd_date (guint8    *p,
             GDateTime *now)
{
  g_autofree char *text = NULL;

  if (now == NULL)
    {
      memset (p, '0', 16);
      p[16] = 0;
      return;
    }

  text = g_date_time_format (now, "%Y%m%d%H%M%S00");
  memcpy (p, text, 16);
  p[16] = 0;
}

/* Returns the record's length. */
static gsize
put_dir_record (guint8       *p,
                guint32       extent,
                guint32       length,
                guint8        flags,
                const guint8 *name,
                guint8        name_len,
                GDateTime    *now)
{
  gsize rec_len = 33 + name_len + (name_len % 2 == 0 ? 1 : 0);

  p[0] = rec_len;
  put_both32 (p + 2, extent);
  put_both32 (p + 10, length);
  put_dir_date (p + 18, now);
  p[25] = flags;
  put_both16 (p + 28, 1);
  p[32] = name_len;
  memcpy (p + 33, name, name_len);

  return rec_len;
}

static void
put_volume_descriptor (guint8     *vd,
                       gboolean    joliet,
                       const char *volume_id,
                       guint32     n_sectors,
                       GDateTime  *now)
{
  static const guint8 self_name[] = { 0 };

  vd[0] = joliet ? 2 : 1;
  memcpy (vd + 1, "CD001", 5);
  vd[6] = 1;
  put_text (vd + 8, 32, "", joliet);
  put_text (vd + 40, 32, volume_id, joliet);
  put_both32 (vd + 80, n_sectors);
  if (joliet)
    memcpy (vd + 88, "%/E", 3);  /* UCS-2 level 3 */
  put_both16 (vd + 120, 1);
  put_both16 (vd + 124, 1);
  put_both16 (vd + 128, SECTOR_SIZE);
  put_both32 (vd + 132, 10);  /* a path table of the root alone */
  put_le32 (vd + 140, joliet ? W_JOLIET_PATH_L : W_PRIMARY_PATH_L);
  put_be32 (vd + 148, joliet ? W_JOLIET_PATH_M : W_PRIMARY_PATH_M);
  put_dir_record (vd + 156, joliet ? W_JOLIET_ROOT : W_PRIMARY_ROOT, SECTOR_SIZE, 0x02,
                  self_name, 1, now);
  put_text (vd + 190, 128, "", joliet);
  put_text (vd + 318, 128, "", joliet);
  put_text (vd + 446, 128, "", joliet);
  put_text (vd + 574, 128, "CASEMENT", joliet);
  put_text (vd + 702, 37, "", joliet);
  put_text (vd + 739, 37, "", joliet);
  put_text (vd + 776, 37, "", joliet);
  put_vd_date (vd + 813, now);
  put_vd_date (vd + 830, now);
  put_vd_date (vd + 847, NULL);
  put_vd_date (vd + 864, now);
  vd[881] = 1;
}

static void
put_path_table (guint8   *p,
                guint32   root_sector,
                gboolean  big_endian)
{
  p[0] = 1;
  if (big_endian)
    {
      put_be32 (p + 2, root_sector);
      put_be16 (p + 6, 1);
    }
  else
    {
      put_le32 (p + 2, root_sector);
      put_le16 (p + 6, 1);
    }
}

/* One file of the image being written, in both trees' spellings. */
typedef struct
{
  char         *iso_name;     /* "NAME.EXT;1" */
  guint8        joliet_name[2 * 64];
  gsize         joliet_len;
  guint32       sector;
  guint32       length;
  const guint8 *data;
} WFile;

static void
w_file_clear (WFile *file)
{
  g_clear_pointer (&file->iso_name, g_free);
}

static int
compare_iso_names (gconstpointer a,
                   gconstpointer b)
{
  const WFile *fa = *(const WFile * const *) a;
  const WFile *fb = *(const WFile * const *) b;

  return strcmp (fa->iso_name, fb->iso_name);
}

static int
compare_joliet_names (gconstpointer a,
                      gconstpointer b)
{
  const WFile *fa = *(const WFile * const *) a;
  const WFile *fb = *(const WFile * const *) b;
  int cmp = memcmp (fa->joliet_name, fb->joliet_name, MIN (fa->joliet_len, fb->joliet_len));

  if (cmp != 0)
    return cmp;

  return (fa->joliet_len > fb->joliet_len) - (fa->joliet_len < fb->joliet_len);
}

/* ISO 9660 wants a folder's records sorted by name, each tree by its own
 * spelling of the names. */
static void
put_root_dir (guint8    *sector,
              guint32    self_sector,
              GArray    *files,
              gboolean   joliet,
              GDateTime *now)
{
  static const guint8 self_name[] = { 0 };
  static const guint8 parent_name[] = { 1 };
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new (files->len);
  gsize pos = 0;

  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add (sorted, &g_array_index (files, WFile, i));
  g_ptr_array_sort (sorted, joliet ? compare_joliet_names : compare_iso_names);

  pos += put_dir_record (sector + pos, self_sector, SECTOR_SIZE, 0x02, self_name, 1, now);
  pos += put_dir_record (sector + pos, self_sector, SECTOR_SIZE, 0x02, parent_name, 1, now);

  for (guint i = 0; i < sorted->len; i++)
    {
      const WFile *file = g_ptr_array_index (sorted, i);

      if (joliet)
        pos += put_dir_record (sector + pos, file->sector, file->length, 0,
                               file->joliet_name, file->joliet_len, now);
      else
        pos += put_dir_record (sector + pos, file->sector, file->length, 0,
                               (const guint8 *) file->iso_name, strlen (file->iso_name), now);
    }

  g_assert (pos <= SECTOR_SIZE);
}

static gboolean
check_file_name (const char  *file_name,
                 GError     **error)
{
  gsize name_len = strlen (file_name);
  gboolean valid = name_len > 0 && name_len <= MAX_WRITTEN_NAME && file_name[0] != '.';

  for (gsize i = 0; valid && i < name_len; i++)
    if (!g_ascii_isalnum (file_name[i]) && strchr ("._-", file_name[i]) == NULL)
      valid = FALSE;

  if (!valid)
    g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                 "“%s” cannot be a file name in a disc image: use up to 30 ASCII letters, digits, '.', '_' or '-'",
                 file_name);

  return valid;
}

/* ISO 9660 names are upper case d-characters; '-' is not one. */
static char *
dup_iso_name (const char *file_name)
{
  g_autofree char *upper = g_ascii_strup (file_name, -1);

  g_strdelimit (upper, "-", '_');

  return g_strconcat (upper, strchr (upper, '.') == NULL ? ".;1" : ";1", NULL);
}

gboolean
casement_iso_write_files (GFile                  *dest,
                          const char             *volume_id,
                          const CasementIsoEntry *entries,
                          guint                   n_entries,
                          GCancellable           *cancellable,
                          GError                **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GArray) files = NULL;
  g_autofree guint8 *image = NULL;
  g_autofree char *iso_volume = NULL;
  gsize image_len;
  guint64 n_sectors = W_FILE_DATA;

  g_return_val_if_fail (G_IS_FILE (dest), FALSE);
  g_return_val_if_fail (volume_id != NULL, FALSE);
  g_return_val_if_fail (entries != NULL || n_entries == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_entries > MAX_WRITTEN_FILES)
    {
      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                   "A disc image Casement writes holds at most %d files, not %u",
                   MAX_WRITTEN_FILES, n_entries);
      return FALSE;
    }

  if (strlen (volume_id) > 16)
    goto bad_volume;
  for (const char *c = volume_id; *c; c++)
    if (!g_ascii_isalnum (*c) && strchr ("._- ", *c) == NULL)
      goto bad_volume;

  files = g_array_sized_new (FALSE, TRUE, sizeof (WFile), n_entries);
  g_array_set_clear_func (files, (GDestroyNotify) w_file_clear);

  for (guint i = 0; i < n_entries; i++)
    {
      WFile file = { 0, };
      gsize name_len;
      gsize data_len;

      g_return_val_if_fail (entries[i].name != NULL, FALSE);
      g_return_val_if_fail (entries[i].contents != NULL, FALSE);

      if (!check_file_name (entries[i].name, error))
        return FALSE;

      data_len = g_bytes_get_size (entries[i].contents);
      if (data_len > G_MAXUINT32 - SECTOR_SIZE)
        {
          g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                       "“%s” is too large for a single-extent image", entries[i].name);
          return FALSE;
        }

      name_len = strlen (entries[i].name);
      file.iso_name = dup_iso_name (entries[i].name);
      for (gsize j = 0; j < name_len; j++)
        put_be16 (file.joliet_name + 2 * j, (guint8) entries[i].name[j]);
      file.joliet_len = 2 * name_len;
      file.length = data_len;
      file.data = g_bytes_get_data (entries[i].contents, NULL);
      file.sector = n_sectors;
      n_sectors += (data_len + SECTOR_SIZE - 1) / SECTOR_SIZE;
      g_array_append_val (files, file);

      /* Upper-casing and '-' → '_' can make two names one in a tree. */
      for (guint j = 0; j < i; j++)
        if (g_str_equal (g_array_index (files, WFile, j).iso_name, file.iso_name) ||
            g_ascii_strcasecmp (entries[j].name, entries[i].name) == 0)
          {
            g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                         "“%s” and “%s” would be the same name in a disc image: rename one",
                         entries[j].name, entries[i].name);
            return FALSE;
          }
    }

  if (n_sectors > G_MAXUINT32 || n_sectors > G_MAXSIZE / SECTOR_SIZE)
    {
      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                   "The files are too large together for one disc image");
      return FALSE;
    }

  image_len = (gsize) n_sectors * SECTOR_SIZE;
  image = g_try_malloc0 (image_len);
  if (image == NULL)
    {
      g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
                   "Not enough memory for a disc image of %" G_GSIZE_FORMAT " bytes", image_len);
      return FALSE;
    }

  iso_volume = g_ascii_strup (volume_id, -1);
  g_strdelimit (iso_volume, "-. ", '_');

  put_volume_descriptor (image + W_PRIMARY_VD * SECTOR_SIZE, FALSE, iso_volume, n_sectors, now);
  put_volume_descriptor (image + W_JOLIET_VD * SECTOR_SIZE, TRUE, volume_id, n_sectors, now);

  image[W_TERMINATOR * SECTOR_SIZE] = 255;
  memcpy (image + W_TERMINATOR * SECTOR_SIZE + 1, "CD001", 5);
  image[W_TERMINATOR * SECTOR_SIZE + 6] = 1;

  put_path_table (image + W_PRIMARY_PATH_L * SECTOR_SIZE, W_PRIMARY_ROOT, FALSE);
  put_path_table (image + W_PRIMARY_PATH_M * SECTOR_SIZE, W_PRIMARY_ROOT, TRUE);
  put_path_table (image + W_JOLIET_PATH_L * SECTOR_SIZE, W_JOLIET_ROOT, FALSE);
  put_path_table (image + W_JOLIET_PATH_M * SECTOR_SIZE, W_JOLIET_ROOT, TRUE);

  put_root_dir (image + W_PRIMARY_ROOT * SECTOR_SIZE, W_PRIMARY_ROOT, files, FALSE, now);
  put_root_dir (image + W_JOLIET_ROOT * SECTOR_SIZE, W_JOLIET_ROOT, files, TRUE, now);

  for (guint i = 0; i < files->len; i++)
    {
      const WFile *file = &g_array_index (files, WFile, i);

      if (file->length > 0)
        memcpy (image + (gsize) file->sector * SECTOR_SIZE, file->data, file->length);
    }

  return g_file_replace_contents (dest, (const char *) image, image_len, NULL, FALSE,
                                  G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                  NULL, cancellable, error);

bad_volume:
  g_set_error (error, CASEMENT_ISO_ERROR, CASEMENT_ISO_ERROR_INVALID,
               "“%s” cannot be a volume label: use up to 16 ASCII letters, digits, spaces, '.', '_' or '-'",
               volume_id);
  return FALSE;
}

gboolean
casement_iso_write_single_file (GFile         *dest,
                                const char    *volume_id,
                                const char    *file_name,
                                GBytes        *contents,
                                GCancellable  *cancellable,
                                GError       **error)
{
  CasementIsoEntry entry = { file_name, contents };

  g_return_val_if_fail (file_name != NULL, FALSE);
  g_return_val_if_fail (contents != NULL, FALSE);

  return casement_iso_write_files (dest, volume_id, &entry, 1, cancellable, error);
}
