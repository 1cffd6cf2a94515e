/* casement-vm-config.c
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

#define G_LOG_DOMAIN "casement-vm-config"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "casement-enums.h"
#include "casement-vm-config.h"

#define DEFAULT_OS_ID      "win11"
#define DEFAULT_CPUS       2
#define DEFAULT_MEMORY_MIB 4096
#define DEFAULT_DISK_PATH  "disk.qcow2"
#define DEFAULT_DISK_SIZE  (G_GUINT64_CONSTANT (64) << 30)

/* Below 256 MiB no supported guest gets past its firmware and installer;
 * above 4 TiB is more than any desktop host has, so it is a typo (a size
 * given in bytes or KiB instead of MiB), not a wish. */
#define MIN_MEMORY_MIB     256
#define MAX_MEMORY_MIB     (G_GUINT64_CONSTANT (4) << 20)
#define MAX_CPUS           256

/* Microsoft's published Windows 11 minimums; Setup refuses to install
 * below them. */
#define WIN11_MIN_MEMORY_MIB 4096
#define WIN11_MIN_DISK_SIZE  (G_GUINT64_CONSTANT (64) << 30)

/* Longest value quoted back in an error message. */
#define MAX_SHOWN_CHARS    60

struct _CasementVmConfig
{
  GObject              parent_instance;

  /* Required strings are never NULL; optional ones are NULL rather than "". */
  char                *name;
  char                *os_id;
  char                *disk_path;
  char                *install_iso;
  char                *drivers_iso;
  char                *unattend_media;
  char                *winfsp_installer;
  char                *kernel;
  char                *initrd;
  char                *kernel_cmdline;
  char                *share_folder;
  char                *user_name;
  char                *computer_name;
  char                *language;
  char                *keyboard;
  char                *product_key;
  char               **port_forwards;

  guint64              memory_mib;
  guint64              disk_size;
  guint                cpus;
  CasementShareMethod  share_method;
  CasementNetwork      network;

  guint                installed : 1;
  guint                share_read_only : 1;
  guint                tpm : 1;
  guint                secure_boot : 1;
  guint                audio : 1;
  guint                express_install : 1;
};

G_DEFINE_FINAL_TYPE (CasementVmConfig, casement_vm_config, G_TYPE_OBJECT)

G_DEFINE_QUARK (casement-vm-config-error-quark, casement_vm_config_error)

enum {
  PROP_0,
  PROP_NAME,
  PROP_OS_ID,
  PROP_CPUS,
  PROP_MEMORY_MIB,
  PROP_DISK_PATH,
  PROP_DISK_SIZE,
  PROP_INSTALL_ISO,
  PROP_DRIVERS_ISO,
  PROP_UNATTEND_MEDIA,
  PROP_WINFSP_INSTALLER,
  PROP_INSTALLED,
  PROP_KERNEL,
  PROP_INITRD,
  PROP_KERNEL_CMDLINE,
  PROP_SHARE_FOLDER,
  PROP_SHARE_METHOD,
  PROP_SHARE_READ_ONLY,
  PROP_TPM,
  PROP_SECURE_BOOT,
  PROP_NETWORK,
  PROP_PORT_FORWARDS,
  PROP_AUDIO,
  PROP_EXPRESS_INSTALL,
  PROP_USER_NAME,
  PROP_COMPUTER_NAME,
  PROP_LANGUAGE,
  PROP_KEYBOARD,
  PROP_PRODUCT_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Every setting is a property and a JSON member; this table says how each
 * one is written, read back and checked, so loading, saving and validation
 * cannot drift apart. */
typedef enum
{
  FIELD_TEXT,           /* free text or NULL */
  FIELD_LINE,           /* required single line of text */
  FIELD_ABSOLUTE_PATH,  /* absolute path or NULL */
  FIELD_VM_PATH,        /* inside the VM's folder (relative) or absolute */
  FIELD_COUNT,          /* whole number from min to max */
  FIELD_BOOLEAN,
  FIELD_ENUM,
  FIELD_PORT_FORWARDS,
  FIELD_USER_NAME,
  FIELD_COMPUTER_NAME,
  FIELD_LANGUAGE,
  FIELD_KEYBOARD,
  FIELD_PRODUCT_KEY,
} FieldKind;

typedef struct
{
  guint      prop_id;
  const char *key;
  FieldKind  kind;
  gboolean   required;
  guint64    min;
  guint64    max;
} Field;

static const Field fields[] = {
  { PROP_NAME,            "name",            FIELD_LINE, TRUE },
  { PROP_OS_ID,           "os_id",           FIELD_LINE, TRUE },
  { PROP_CPUS,            "cpus",            FIELD_COUNT, TRUE, 1, MAX_CPUS },
  { PROP_MEMORY_MIB,      "memory_mib",      FIELD_COUNT, TRUE, MIN_MEMORY_MIB, MAX_MEMORY_MIB },
  { PROP_DISK_PATH,       "disk_path",       FIELD_VM_PATH, TRUE },
  /* JSON integers are signed 64-bit. */
  { PROP_DISK_SIZE,       "disk_size",       FIELD_COUNT, TRUE, 0, G_MAXINT64 },
  { PROP_INSTALL_ISO,     "install_iso",     FIELD_ABSOLUTE_PATH },
  { PROP_DRIVERS_ISO,     "drivers_iso",     FIELD_ABSOLUTE_PATH },
  { PROP_UNATTEND_MEDIA,  "unattend_media",  FIELD_VM_PATH },
  { PROP_WINFSP_INSTALLER, "winfsp_installer", FIELD_ABSOLUTE_PATH },
  { PROP_INSTALLED,       "installed",       FIELD_BOOLEAN },
  { PROP_KERNEL,          "kernel",          FIELD_ABSOLUTE_PATH },
  { PROP_INITRD,          "initrd",          FIELD_ABSOLUTE_PATH },
  { PROP_KERNEL_CMDLINE,  "kernel_cmdline",  FIELD_TEXT },
  { PROP_SHARE_FOLDER,    "share_folder",    FIELD_ABSOLUTE_PATH },
  { PROP_SHARE_METHOD,    "share_method",    FIELD_ENUM },
  { PROP_SHARE_READ_ONLY, "share_read_only", FIELD_BOOLEAN },
  { PROP_TPM,             "tpm",             FIELD_BOOLEAN },
  { PROP_SECURE_BOOT,     "secure_boot",     FIELD_BOOLEAN },
  { PROP_NETWORK,         "network",         FIELD_ENUM },
  { PROP_PORT_FORWARDS,   "port_forwards",   FIELD_PORT_FORWARDS },
  { PROP_AUDIO,           "audio",           FIELD_BOOLEAN },
  { PROP_EXPRESS_INSTALL, "express_install", FIELD_BOOLEAN },
  { PROP_USER_NAME,       "user_name",       FIELD_USER_NAME },
  { PROP_COMPUTER_NAME,   "computer_name",   FIELD_COMPUTER_NAME },
  { PROP_LANGUAGE,        "language",        FIELD_LANGUAGE },
  { PROP_KEYBOARD,        "keyboard",        FIELD_KEYBOARD },
  { PROP_PRODUCT_KEY,     "product_key",     FIELD_PRODUCT_KEY },
};

static gboolean set_invalid (GError     **error,
                             const char  *format,
                             ...) G_GNUC_PRINTF (2, 3);

/* Always FALSE, so checks can end with "return set_invalid (…)". */
static gboolean
set_invalid (GError     **error,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (CASEMENT_VM_CONFIG_ERROR,
                                                CASEMENT_VM_CONFIG_ERROR_INVALID,
                                                format, args));
  va_end (args);

  return FALSE;
}

static gboolean
set_required_string (char       **field,
                     const char  *value)
{
  g_assert (field != NULL);

  if (value == NULL)
    value = "";

  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static gboolean
set_optional_string (char       **field,
                     const char  *value)
{
  g_assert (field != NULL);

  if (value != NULL && value[0] == '\0')
    value = NULL;

  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* Settings whose sensible value depends on the guest: Windows 11 cannot
 * install without TPM 2.0 and is made for Secure Boot; express install
 * only exists for Windows. */
static void
apply_os_defaults (CasementVmConfig *self)
{
  gboolean win11;

  g_assert (CASEMENT_IS_VM_CONFIG (self));

  win11 = g_str_equal (self->os_id, "win11");
  casement_vm_config_set_tpm (self, win11);
  casement_vm_config_set_secure_boot (self, win11);
  casement_vm_config_set_express_install (self, casement_vm_config_is_windows (self));
}

/* A value quoted back to the user: short, and always valid UTF-8. */
static char *
dup_shown (const char *value)
{
  g_autofree char *valid = NULL;

  if (value == NULL)
    return g_strdup ("null");

  valid = g_utf8_make_valid (value, -1);
  if (g_utf8_strlen (valid, -1) > MAX_SHOWN_CHARS)
    {
      g_autofree char *head = g_utf8_substring (valid, 0, MAX_SHOWN_CHARS);
      return g_strconcat (head, "…", NULL);
    }

  return g_steal_pointer (&valid);
}

static char *
dup_shown_node (JsonNode *node)
{
  g_autofree char *text = NULL;

  g_assert (node != NULL);

  text = json_to_string (node, FALSE);
  return dup_shown (text);
}

static gboolean
has_control_chars (const char *text)
{
  g_assert (text != NULL);

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      if (g_unichar_iscntrl (g_utf8_get_char (p)))
        return TRUE;
    }

  return FALSE;
}

static char *
dup_enum_choices (GType enum_type)
{
  g_autoptr(GEnumClass) enum_class = g_type_class_ref (enum_type);
  g_autoptr(GString) choices = g_string_new (NULL);

  for (guint i = 0; i < enum_class->n_values; i++)
    {
      if (i > 0)
        g_string_append (choices, ", ");
      g_string_append_printf (choices, "“%s”", enum_class->values[i].value_nick);
    }

  return g_string_free (g_steal_pointer (&choices), FALSE);
}

static gboolean
is_vm_path (const char *path)
{
  g_auto(GStrv) parts = NULL;

  g_assert (path != NULL);

  if (g_path_is_absolute (path))
    return TRUE;

  /* A relative path must stay inside the VM's folder: no "..", and it must
   * name a file, not the folder itself. */
  parts = g_strsplit (path, G_DIR_SEPARATOR_S, -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], ".."))
        return FALSE;
    }

  return path[0] != '\0' && !g_str_equal (path, ".") && !g_str_has_suffix (path, G_DIR_SEPARATOR_S);
}

static gboolean
parse_port (const char *text,
            guint      *port)
{
  guint64 value;

  g_assert (port != NULL);

  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &value, NULL))
    return FALSE;

  *port = (guint) value;
  return TRUE;
}

static gboolean
parse_port_forward (const char  *forward,
                    gboolean    *udp,
                    guint       *host_port,
                    guint       *guest_port)
{
  g_auto(GStrv) parts = NULL;

  g_assert (forward != NULL);

  parts = g_strsplit (forward, ":", -1);
  if (g_strv_length (parts) != 3 ||
      !(g_str_equal (parts[0], "tcp") || g_str_equal (parts[0], "udp")) ||
      !parse_port (parts[1], host_port) ||
      !parse_port (parts[2], guest_port))
    return FALSE;

  *udp = g_str_equal (parts[0], "udp");
  return TRUE;
}

static gboolean
check_port_forwards (const Field        *field,
                     const char * const *forwards,
                     GError            **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  g_assert (field != NULL);

  for (guint i = 0; forwards != NULL && forwards[i] != NULL; i++)
    {
      gboolean udp;
      guint host_port;
      guint guest_port;
      gpointer key;

      if (!parse_port_forward (forwards[i], &udp, &host_port, &guest_port))
        {
          g_autofree char *shown = dup_shown (forwards[i]);

          g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                       _("Field “%s” needs entries like “tcp:8080:80” (protocol tcp or udp, "
                         "host port, guest port, ports from 1 to 65535), not “%s”"),
                       field->key, shown);
          return FALSE;
        }

      key = GUINT_TO_POINTER (host_port | (udp ? 0x10000 : 0));
      if (g_hash_table_contains (seen, key))
        {
          g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                       _("Field “%s” forwards host port %s:%u twice; remove one of them"),
                       field->key, udp ? "udp" : "tcp", host_port);
          return FALSE;
        }
      g_hash_table_add (seen, key);
    }

  return TRUE;
}

/* Windows rejects these in account names, and at most 20 characters. */
static gboolean
is_windows_user_name (const char *name)
{
  gboolean only_dots_and_spaces = TRUE;

  g_assert (name != NULL);

  if (g_utf8_strlen (name, -1) > 20 || has_control_chars (name))
    return FALSE;

  for (const char *p = name; *p; p++)
    {
      if (strchr ("\"/\\[]:;|=,+*?<>@%", *p) != NULL)
        return FALSE;
      if (*p != '.' && *p != ' ')
        only_dots_and_spaces = FALSE;
    }

  return !only_dots_and_spaces;
}

/* NetBIOS computer names: 1 to 15 letters, digits or hyphens, not all
 * digits (Windows Setup stops on anything else). */
static gboolean
is_computer_name (const char *name)
{
  gboolean only_digits = TRUE;
  gsize len = strlen (name);

  if (len == 0 || len > 15)
    return FALSE;

  for (const char *p = name; *p; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-')
        return FALSE;
      if (!g_ascii_isdigit (*p))
        only_digits = FALSE;
    }

  return !only_digits;
}

/* The BCP 47 shapes Windows understands: "en-US", "sr-Latn-RS", "de". */
static gboolean
is_language_tag (const char *tag)
{
  g_auto(GStrv) parts = g_strsplit (tag, "-", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      gsize len = strlen (parts[i]);

      if (len == 0 || len > 8 || (i == 0 && len < 2))
        return FALSE;

      for (const char *p = parts[i]; *p; p++)
        {
          if (i == 0 ? !g_ascii_isalpha (*p) : !g_ascii_isalnum (*p))
            return FALSE;
        }
    }

  return parts[0] != NULL;
}

/* Input locales are written as "en-US" or "0409:00000409" (language id and
 * keyboard layout id), several joined by ';'. */
static gboolean
is_input_locale (const char *keyboard)
{
  if (keyboard[0] == '\0')
    return FALSE;

  for (const char *p = keyboard; *p; p++)
    {
      if (!g_ascii_isalnum (*p) && strchr ("-:;{}", *p) == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
is_product_key (const char *key)
{
  if (strlen (key) != 29)
    return FALSE;

  for (guint i = 0; i < 29; i++)
    {
      if (i % 6 == 5 ? key[i] != '-' : !g_ascii_isalnum (key[i]))
        return FALSE;
    }

  return TRUE;
}

static gboolean
check_string (const Field  *field,
              const char   *value,
              GError      **error)
{
  g_autofree char *shown = NULL;
  g_autofree char *stripped = NULL;

  g_assert (field != NULL);

  if (value == NULL || value[0] == '\0')
    {
      if (!field->required)
        return TRUE;

      return set_invalid (error, _("Field “%s” must not be empty"), field->key);
    }

  shown = dup_shown (value);

  switch (field->kind)
    {
    case FIELD_TEXT:
      return TRUE;

    case FIELD_LINE:
      stripped = g_strstrip (g_strdup (value));
      if (stripped[0] == '\0')
        return set_invalid (error, _("Field “%s” must not be empty"), field->key);
      if (has_control_chars (value))
        return set_invalid (error,
                            _("Field “%s” must be a single line of text without control characters, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_ABSOLUTE_PATH:
      if (!g_path_is_absolute (value))
        return set_invalid (error,
                            _("Field “%s” must be an absolute path (starting with “/”), not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_VM_PATH:
      if (!is_vm_path (value))
        return set_invalid (error,
                            _("Field “%s” must be an absolute path or a file name inside the VM's folder, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_USER_NAME:
      if (!is_windows_user_name (value))
        return set_invalid (error,
                            _("Field “%s” must be a Windows user name of at most 20 characters, "
                              "without any of \"/\\[]:;|=,+*?<>@%%, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_COMPUTER_NAME:
      if (!is_computer_name (value))
        return set_invalid (error,
                            _("Field “%s” must be 1 to 15 letters, digits or hyphens, not only digits, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_LANGUAGE:
      if (!is_language_tag (value))
        return set_invalid (error,
                            _("Field “%s” must be a language tag such as “en-US”, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_KEYBOARD:
      if (!is_input_locale (value))
        return set_invalid (error,
                            _("Field “%s” must be an input locale such as “en-US” or “0409:00000409”, not “%s”"),
                            field->key, shown);
      return TRUE;

    case FIELD_PRODUCT_KEY:
      /* The key itself is not repeated: error messages end up in logs. */
      if (!is_product_key (value))
        return set_invalid (error,
                            _("Field “%s” must be a product key of the form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"),
                            field->key);
      return TRUE;

    case FIELD_COUNT:
    case FIELD_BOOLEAN:
    case FIELD_ENUM:
    case FIELD_PORT_FORWARDS:
    default:
      g_assert_not_reached ();
    }
}

static void
set_count_error (const Field  *field,
                 const char   *shown,
                 GError      **error)
{
  g_autofree char *min = NULL;
  g_autofree char *max = NULL;

  g_assert (field != NULL);
  g_assert (field->kind == FIELD_COUNT);

  /* Numbers are formatted apart: a G_GUINT64_FORMAT inside _() would hide
   * the message from xgettext. */
  min = g_strdup_printf ("%" G_GUINT64_FORMAT, field->min);
  max = g_strdup_printf ("%" G_GUINT64_FORMAT, field->max);
  set_invalid (error, _("Field “%s” must be a whole number from %s to %s, not “%s”"),
               field->key, min, max, shown);
}

/* The checks of one field, on its property value; shared by loading,
 * saving and validation. */
static gboolean
check_value (const Field   *field,
             const GValue  *value,
             GError       **error)
{
  g_assert (field != NULL);
  g_assert (G_IS_VALUE (value));

  switch (field->kind)
    {
    case FIELD_COUNT:
      {
        guint64 count = G_VALUE_HOLDS_UINT (value) ? g_value_get_uint (value)
                                                   : g_value_get_uint64 (value);

        if (count < field->min || count > field->max)
          {
            g_autofree char *shown = g_strdup_printf ("%" G_GUINT64_FORMAT, count);

            set_count_error (field, shown, error);
            return FALSE;
          }
        return TRUE;
      }

    case FIELD_BOOLEAN:
      return TRUE;

    case FIELD_ENUM:
      {
        g_autoptr(GEnumClass) enum_class = g_type_class_ref (G_VALUE_TYPE (value));
        int number = g_value_get_enum (value);

        if (g_enum_get_value (enum_class, number) == NULL)
          {
            g_autofree char *choices = dup_enum_choices (G_VALUE_TYPE (value));

            g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                         _("Field “%s” must be one of %s, not “%d”"),
                         field->key, choices, number);
            return FALSE;
          }
        return TRUE;
      }

    case FIELD_PORT_FORWARDS:
      return check_port_forwards (field, g_value_get_boxed (value), error);

    case FIELD_TEXT:
    case FIELD_LINE:
    case FIELD_ABSOLUTE_PATH:
    case FIELD_VM_PATH:
    case FIELD_USER_NAME:
    case FIELD_COMPUTER_NAME:
    case FIELD_LANGUAGE:
    case FIELD_KEYBOARD:
    case FIELD_PRODUCT_KEY:
      return check_string (field, g_value_get_string (value), error);

    default:
      g_assert_not_reached ();
    }
}

static gboolean
check_fields (CasementVmConfig  *self,
              GError           **error)
{
  g_assert (CASEMENT_IS_VM_CONFIG (self));

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      GParamSpec *pspec = properties[fields[i].prop_id];
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, pspec->value_type);
      g_object_get_property (G_OBJECT (self), pspec->name, &value);
      if (!check_value (&fields[i], &value, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
node_holds (JsonNode *node,
            GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* Turns the JSON member of @field into its property value. Type errors and
 * values the property type cannot hold are reported here; everything else
 * by check_value(), as for a config built in memory. */
static gboolean
read_value (const Field  *field,
            GParamSpec   *pspec,
            JsonNode     *node,
            GValue       *value,
            GError      **error)
{
  g_autofree char *shown = NULL;

  g_assert (field != NULL);
  g_assert (node != NULL);

  shown = dup_shown_node (node);

  g_value_init (value, pspec->value_type);

  switch (field->kind)
    {
    case FIELD_COUNT:
      {
        gint64 number;
        guint64 limit = G_VALUE_HOLDS_UINT (value) ? G_MAXUINT : G_MAXUINT64;

        if (!node_holds (node, G_TYPE_INT64) ||
            (number = json_node_get_int (node)) < 0 ||
            (guint64) number > limit)
          {
            set_count_error (field, shown, error);
            return FALSE;
          }

        if (G_VALUE_HOLDS_UINT (value))
          g_value_set_uint (value, (guint) number);
        else
          g_value_set_uint64 (value, (guint64) number);
        return TRUE;
      }

    case FIELD_BOOLEAN:
      if (!node_holds (node, G_TYPE_BOOLEAN))
        return set_invalid (error, _("Field “%s” must be true or false, not “%s”"),
                            field->key, shown);
      g_value_set_boolean (value, json_node_get_boolean (node));
      return TRUE;

    case FIELD_ENUM:
      {
        g_autoptr(GEnumClass) enum_class = g_type_class_ref (pspec->value_type);
        GEnumValue *enum_value = NULL;

        if (node_holds (node, G_TYPE_STRING))
          enum_value = g_enum_get_value_by_nick (enum_class, json_node_get_string (node));

        if (enum_value == NULL)
          {
            g_autofree char *choices = dup_enum_choices (pspec->value_type);

            if (node_holds (node, G_TYPE_STRING))
              {
                g_free (shown);
                shown = dup_shown (json_node_get_string (node));
              }
            return set_invalid (error, _("Field “%s” must be one of %s, not “%s”"),
                                field->key, choices, shown);
          }
        g_value_set_enum (value, enum_value->value);
        return TRUE;
      }

    case FIELD_PORT_FORWARDS:
      {
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
        g_auto(GStrv) forwards = NULL;
        JsonArray *array;

        if (JSON_NODE_HOLDS_NULL (node))
          return TRUE;

        if (!JSON_NODE_HOLDS_ARRAY (node))
          return set_invalid (error,
                              _("Field “%s” must be a list of port forwards such as [\"tcp:8080:80\"], not “%s”"),
                              field->key, shown);

        array = json_node_get_array (node);
        for (guint i = 0; i < json_array_get_length (array); i++)
          {
            JsonNode *element = json_array_get_element (array, i);

            if (!node_holds (element, G_TYPE_STRING))
              {
                g_autofree char *shown_element = dup_shown_node (element);

                return set_invalid (error,
                                    _("Field “%s” needs entries like “tcp:8080:80” (protocol tcp or udp, "
                                      "host port, guest port, ports from 1 to 65535), not “%s”"),
                                    field->key, shown_element);
              }
            g_strv_builder_add (builder, json_node_get_string (element));
          }

        forwards = g_strv_builder_end (builder);
        g_value_take_boxed (value, g_steal_pointer (&forwards));
        return TRUE;
      }

    case FIELD_TEXT:
    case FIELD_LINE:
    case FIELD_ABSOLUTE_PATH:
    case FIELD_VM_PATH:
    case FIELD_USER_NAME:
    case FIELD_COMPUTER_NAME:
    case FIELD_LANGUAGE:
    case FIELD_KEYBOARD:
    case FIELD_PRODUCT_KEY:
      if (JSON_NODE_HOLDS_NULL (node))
        return TRUE;
      if (!node_holds (node, G_TYPE_STRING))
        return set_invalid (error, _("Field “%s” must be text, not “%s”"), field->key, shown);
      g_value_set_string (value, json_node_get_string (node));
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

static const Field *
find_field (guint prop_id)
{
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (fields[i].prop_id == prop_id)
        return &fields[i];
    }

  g_assert_not_reached ();
}

static gboolean
read_field (CasementVmConfig  *self,
            const Field       *field,
            JsonObject        *object,
            GError           **error)
{
  GParamSpec *pspec = properties[field->prop_id];
  g_auto(GValue) value = G_VALUE_INIT;
  JsonNode *node;

  g_assert (CASEMENT_IS_VM_CONFIG (self));
  g_assert (field != NULL);

  if (!(node = json_object_get_member (object, field->key)))
    return TRUE;

  if (!read_value (field, pspec, node, &value, error) ||
      !check_value (field, &value, error))
    return FALSE;

  g_object_set_property (G_OBJECT (self), pspec->name, &value);
  return TRUE;
}

static void
write_field (CasementVmConfig *self,
             const Field      *field,
             JsonBuilder      *builder)
{
  GParamSpec *pspec = properties[field->prop_id];
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert (CASEMENT_IS_VM_CONFIG (self));
  g_assert (field != NULL);
  g_assert (JSON_IS_BUILDER (builder));

  g_value_init (&value, pspec->value_type);
  g_object_get_property (G_OBJECT (self), pspec->name, &value);

  json_builder_set_member_name (builder, field->key);

  switch (field->kind)
    {
    case FIELD_COUNT:
      if (G_VALUE_HOLDS_UINT (&value))
        json_builder_add_int_value (builder, g_value_get_uint (&value));
      else
        json_builder_add_int_value (builder, (gint64) g_value_get_uint64 (&value));
      break;

    case FIELD_BOOLEAN:
      json_builder_add_boolean_value (builder, g_value_get_boolean (&value));
      break;

    case FIELD_ENUM:
      {
        g_autoptr(GEnumClass) enum_class = g_type_class_ref (pspec->value_type);
        GEnumValue *enum_value = g_enum_get_value (enum_class, g_value_get_enum (&value));

        if (enum_value != NULL)
          json_builder_add_string_value (builder, enum_value->value_nick);
        else
          json_builder_add_int_value (builder, g_value_get_enum (&value));
        break;
      }

    case FIELD_PORT_FORWARDS:
      {
        const char * const *forwards = g_value_get_boxed (&value);

        json_builder_begin_array (builder);
        for (guint i = 0; forwards != NULL && forwards[i] != NULL; i++)
          json_builder_add_string_value (builder, forwards[i]);
        json_builder_end_array (builder);
        break;
      }

    case FIELD_TEXT:
    case FIELD_LINE:
    case FIELD_ABSOLUTE_PATH:
    case FIELD_VM_PATH:
    case FIELD_USER_NAME:
    case FIELD_COMPUTER_NAME:
    case FIELD_LANGUAGE:
    case FIELD_KEYBOARD:
    case FIELD_PRODUCT_KEY:
      if (g_value_get_string (&value) != NULL)
        json_builder_add_string_value (builder, g_value_get_string (&value));
      else
        json_builder_add_null_value (builder);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
casement_vm_config_finalize (GObject *object)
{
  CasementVmConfig *self = (CasementVmConfig *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->os_id, g_free);
  g_clear_pointer (&self->disk_path, g_free);
  g_clear_pointer (&self->install_iso, g_free);
  g_clear_pointer (&self->drivers_iso, g_free);
  g_clear_pointer (&self->unattend_media, g_free);
  g_clear_pointer (&self->winfsp_installer, g_free);
  g_clear_pointer (&self->kernel, g_free);
  g_clear_pointer (&self->initrd, g_free);
  g_clear_pointer (&self->kernel_cmdline, g_free);
  g_clear_pointer (&self->share_folder, g_free);
  g_clear_pointer (&self->user_name, g_free);
  g_clear_pointer (&self->computer_name, g_free);
  g_clear_pointer (&self->language, g_free);
  g_clear_pointer (&self->keyboard, g_free);
  g_clear_pointer (&self->product_key, g_free);
  g_clear_pointer (&self->port_forwards, g_strfreev);

  G_OBJECT_CLASS (casement_vm_config_parent_class)->finalize (object);
}

static void
casement_vm_config_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  CasementVmConfig *self = CASEMENT_VM_CONFIG (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, casement_vm_config_get_name (self));
      break;

    case PROP_OS_ID:
      g_value_set_string (value, casement_vm_config_get_os_id (self));
      break;

    case PROP_CPUS:
      g_value_set_uint (value, casement_vm_config_get_cpus (self));
      break;

    case PROP_MEMORY_MIB:
      g_value_set_uint64 (value, casement_vm_config_get_memory_mib (self));
      break;

    case PROP_DISK_PATH:
      g_value_set_string (value, casement_vm_config_get_disk_path (self));
      break;

    case PROP_DISK_SIZE:
      g_value_set_uint64 (value, casement_vm_config_get_disk_size (self));
      break;

    case PROP_INSTALL_ISO:
      g_value_set_string (value, casement_vm_config_get_install_iso (self));
      break;

    case PROP_DRIVERS_ISO:
      g_value_set_string (value, casement_vm_config_get_drivers_iso (self));
      break;

    case PROP_UNATTEND_MEDIA:
      g_value_set_string (value, casement_vm_config_get_unattend_media (self));
      break;

    case PROP_WINFSP_INSTALLER:
      g_value_set_string (value, casement_vm_config_get_winfsp_installer (self));
      break;

    case PROP_INSTALLED:
      g_value_set_boolean (value, casement_vm_config_get_installed (self));
      break;

    case PROP_KERNEL:
      g_value_set_string (value, casement_vm_config_get_kernel (self));
      break;

    case PROP_INITRD:
      g_value_set_string (value, casement_vm_config_get_initrd (self));
      break;

    case PROP_KERNEL_CMDLINE:
      g_value_set_string (value, casement_vm_config_get_kernel_cmdline (self));
      break;

    case PROP_SHARE_FOLDER:
      g_value_set_string (value, casement_vm_config_get_share_folder (self));
      break;

    case PROP_SHARE_METHOD:
      g_value_set_enum (value, casement_vm_config_get_share_method (self));
      break;

    case PROP_SHARE_READ_ONLY:
      g_value_set_boolean (value, casement_vm_config_get_share_read_only (self));
      break;

    case PROP_TPM:
      g_value_set_boolean (value, casement_vm_config_get_tpm (self));
      break;

    case PROP_SECURE_BOOT:
      g_value_set_boolean (value, casement_vm_config_get_secure_boot (self));
      break;

    case PROP_NETWORK:
      g_value_set_enum (value, casement_vm_config_get_network (self));
      break;

    case PROP_PORT_FORWARDS:
      g_value_set_boxed (value, casement_vm_config_get_port_forwards (self));
      break;

    case PROP_AUDIO:
      g_value_set_boolean (value, casement_vm_config_get_audio (self));
      break;

    case PROP_EXPRESS_INSTALL:
      g_value_set_boolean (value, casement_vm_config_get_express_install (self));
      break;

    case PROP_USER_NAME:
      g_value_set_string (value, casement_vm_config_get_user_name (self));
      break;

    case PROP_COMPUTER_NAME:
      g_value_set_string (value, casement_vm_config_get_computer_name (self));
      break;

    case PROP_LANGUAGE:
      g_value_set_string (value, casement_vm_config_get_language (self));
      break;

    case PROP_KEYBOARD:
      g_value_set_string (value, casement_vm_config_get_keyboard (self));
      break;

    case PROP_PRODUCT_KEY:
      g_value_set_string (value, casement_vm_config_get_product_key (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_config_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  CasementVmConfig *self = CASEMENT_VM_CONFIG (object);

  switch (prop_id)
    {
    case PROP_NAME:
      casement_vm_config_set_name (self, g_value_get_string (value));
      break;

    case PROP_OS_ID:
      casement_vm_config_set_os_id (self, g_value_get_string (value));
      break;

    case PROP_CPUS:
      casement_vm_config_set_cpus (self, g_value_get_uint (value));
      break;

    case PROP_MEMORY_MIB:
      casement_vm_config_set_memory_mib (self, g_value_get_uint64 (value));
      break;

    case PROP_DISK_PATH:
      casement_vm_config_set_disk_path (self, g_value_get_string (value));
      break;

    case PROP_DISK_SIZE:
      casement_vm_config_set_disk_size (self, g_value_get_uint64 (value));
      break;

    case PROP_INSTALL_ISO:
      casement_vm_config_set_install_iso (self, g_value_get_string (value));
      break;

    case PROP_DRIVERS_ISO:
      casement_vm_config_set_drivers_iso (self, g_value_get_string (value));
      break;

    case PROP_UNATTEND_MEDIA:
      casement_vm_config_set_unattend_media (self, g_value_get_string (value));
      break;

    case PROP_WINFSP_INSTALLER:
      casement_vm_config_set_winfsp_installer (self, g_value_get_string (value));
      break;

    case PROP_INSTALLED:
      casement_vm_config_set_installed (self, g_value_get_boolean (value));
      break;

    case PROP_KERNEL:
      casement_vm_config_set_kernel (self, g_value_get_string (value));
      break;

    case PROP_INITRD:
      casement_vm_config_set_initrd (self, g_value_get_string (value));
      break;

    case PROP_KERNEL_CMDLINE:
      casement_vm_config_set_kernel_cmdline (self, g_value_get_string (value));
      break;

    case PROP_SHARE_FOLDER:
      casement_vm_config_set_share_folder (self, g_value_get_string (value));
      break;

    case PROP_SHARE_METHOD:
      casement_vm_config_set_share_method (self, g_value_get_enum (value));
      break;

    case PROP_SHARE_READ_ONLY:
      casement_vm_config_set_share_read_only (self, g_value_get_boolean (value));
      break;

    case PROP_TPM:
      casement_vm_config_set_tpm (self, g_value_get_boolean (value));
      break;

    case PROP_SECURE_BOOT:
      casement_vm_config_set_secure_boot (self, g_value_get_boolean (value));
      break;

    case PROP_NETWORK:
      casement_vm_config_set_network (self, g_value_get_enum (value));
      break;

    case PROP_PORT_FORWARDS:
      casement_vm_config_set_port_forwards (self, g_value_get_boxed (value));
      break;

    case PROP_AUDIO:
      casement_vm_config_set_audio (self, g_value_get_boolean (value));
      break;

    case PROP_EXPRESS_INSTALL:
      casement_vm_config_set_express_install (self, g_value_get_boolean (value));
      break;

    case PROP_USER_NAME:
      casement_vm_config_set_user_name (self, g_value_get_string (value));
      break;

    case PROP_COMPUTER_NAME:
      casement_vm_config_set_computer_name (self, g_value_get_string (value));
      break;

    case PROP_LANGUAGE:
      casement_vm_config_set_language (self, g_value_get_string (value));
      break;

    case PROP_KEYBOARD:
      casement_vm_config_set_keyboard (self, g_value_get_string (value));
      break;

    case PROP_PRODUCT_KEY:
      casement_vm_config_set_product_key (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

#define STRING_PROP(id, prop_name, default_value) \
  properties[id] = g_param_spec_string (prop_name, NULL, NULL, default_value, \
                                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS))
#define BOOLEAN_PROP(id, prop_name, default_value) \
  properties[id] = g_param_spec_boolean (prop_name, NULL, NULL, default_value, \
                                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS))

static void
casement_vm_config_class_init (CasementVmConfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = casement_vm_config_finalize;
  object_class->get_property = casement_vm_config_get_property;
  object_class->set_property = casement_vm_config_set_property;

  /* Ranges are left wide open on purpose: a wizard bound to these
   * properties may pass through bad values, and validate() then says what
   * is wrong in words instead of GObject printing a warning. */
  STRING_PROP (PROP_NAME, "name", "");
  STRING_PROP (PROP_OS_ID, "os-id", DEFAULT_OS_ID);
  properties[PROP_CPUS] =
    g_param_spec_uint ("cpus", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_CPUS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_MEMORY_MIB] =
    g_param_spec_uint64 ("memory-mib", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_MEMORY_MIB,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  STRING_PROP (PROP_DISK_PATH, "disk-path", DEFAULT_DISK_PATH);
  properties[PROP_DISK_SIZE] =
    g_param_spec_uint64 ("disk-size", NULL, NULL,
                         0, G_MAXUINT64, DEFAULT_DISK_SIZE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  STRING_PROP (PROP_INSTALL_ISO, "install-iso", NULL);
  STRING_PROP (PROP_DRIVERS_ISO, "drivers-iso", NULL);
  STRING_PROP (PROP_UNATTEND_MEDIA, "unattend-media", NULL);
  STRING_PROP (PROP_WINFSP_INSTALLER, "winfsp-installer", NULL);
  BOOLEAN_PROP (PROP_INSTALLED, "installed", FALSE);
  STRING_PROP (PROP_KERNEL, "kernel", NULL);
  STRING_PROP (PROP_INITRD, "initrd", NULL);
  STRING_PROP (PROP_KERNEL_CMDLINE, "kernel-cmdline", NULL);
  STRING_PROP (PROP_SHARE_FOLDER, "share-folder", NULL);
  properties[PROP_SHARE_METHOD] =
    g_param_spec_enum ("share-method", NULL, NULL,
                       CASEMENT_TYPE_SHARE_METHOD, CASEMENT_SHARE_METHOD_NONE,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  BOOLEAN_PROP (PROP_SHARE_READ_ONLY, "share-read-only", FALSE);
  BOOLEAN_PROP (PROP_TPM, "tpm", TRUE);
  BOOLEAN_PROP (PROP_SECURE_BOOT, "secure-boot", TRUE);
  properties[PROP_NETWORK] =
    g_param_spec_enum ("network", NULL, NULL,
                       CASEMENT_TYPE_NETWORK, CASEMENT_NETWORK_USER,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_PORT_FORWARDS] =
    g_param_spec_boxed ("port-forwards", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  BOOLEAN_PROP (PROP_AUDIO, "audio", TRUE);
  BOOLEAN_PROP (PROP_EXPRESS_INSTALL, "express-install", TRUE);
  STRING_PROP (PROP_USER_NAME, "user-name", NULL);
  STRING_PROP (PROP_COMPUTER_NAME, "computer-name", NULL);
  STRING_PROP (PROP_LANGUAGE, "language", NULL);
  STRING_PROP (PROP_KEYBOARD, "keyboard", NULL);
  STRING_PROP (PROP_PRODUCT_KEY, "product-key", NULL);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

#undef STRING_PROP
#undef BOOLEAN_PROP

static void
casement_vm_config_init (CasementVmConfig *self)
{
  self->name = g_strdup ("");
  self->os_id = g_strdup (DEFAULT_OS_ID);
  self->cpus = DEFAULT_CPUS;
  self->memory_mib = DEFAULT_MEMORY_MIB;
  self->disk_path = g_strdup (DEFAULT_DISK_PATH);
  self->disk_size = DEFAULT_DISK_SIZE;
  self->share_method = CASEMENT_SHARE_METHOD_NONE;
  self->network = CASEMENT_NETWORK_USER;
  self->port_forwards = g_new0 (char *, 1);
  self->tpm = TRUE;
  self->secure_boot = TRUE;
  self->audio = TRUE;
  self->express_install = TRUE;
}

/**
 * casement_vm_config_new:
 * @name: (nullable): the VM's display name
 *
 * Creates a config with the defaults of a Windows 11 VM.
 *
 * Returns: (transfer full): a new #CasementVmConfig
 */
CasementVmConfig *
casement_vm_config_new (const char *name)
{
  return g_object_new (CASEMENT_TYPE_VM_CONFIG,
                       "name", name,
                       NULL);
}

/**
 * casement_vm_config_new_from_json:
 * @json: the text of a vm.json
 * @length: its length, or -1 when nul-terminated
 * @error: a location for a #GError
 *
 * Reads a config, checking every field. Unknown members are ignored, so an
 * older Casement can read a newer file of the same schema version; a
 * missing member takes its default.
 *
 * Returns: (transfer full): the config, or %NULL with @error set
 */
CasementVmConfig *
casement_vm_config_new_from_json (const char  *json,
                                  gssize       length,
                                  GError     **error)
{
  g_autoptr(CasementVmConfig) self = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;
  JsonObject *object;
  JsonNode *root;
  JsonNode *version;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, length, &parse_error))
    {
      g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE,
                   _("Not valid JSON: %s"), parse_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE,
                           _("Not a VM configuration: there is nothing in it"));
      return NULL;
    }

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE,
                           _("Not a VM configuration: the JSON is not an object"));
      return NULL;
    }
  object = json_node_get_object (root);

  if (!(version = json_object_get_member (object, "schema_version")))
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Field “schema_version” is missing; this is not a Casement VM configuration"));
      return NULL;
    }

  if (!node_holds (version, G_TYPE_INT64) || json_node_get_int (version) < 1)
    {
      g_autofree char *shown = dup_shown_node (version);

      g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                   _("Field “schema_version” must be a whole number, 1 or more, not “%s”"), shown);
      return NULL;
    }

  if (json_node_get_int (version) > CASEMENT_VM_CONFIG_SCHEMA_VERSION)
    {
      g_autofree char *shown = dup_shown_node (version);

      g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED,
                   _("This VM configuration has format version %s, but this Casement reads only "
                     "up to version %d; update Casement to use it"),
                   shown, CASEMENT_VM_CONFIG_SCHEMA_VERSION);
      return NULL;
    }

  if (!json_object_has_member (object, "name"))
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Field “name” is missing; every VM needs a name"));
      return NULL;
    }

  self = g_object_new (CASEMENT_TYPE_VM_CONFIG, NULL);

  /* The guest decides the defaults of the members that are absent. */
  if (!read_field (self, find_field (PROP_OS_ID), object, error))
    return NULL;
  apply_os_defaults (self);

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (fields[i].prop_id != PROP_OS_ID && !read_field (self, &fields[i], object, error))
        return NULL;
    }

  if (!json_object_has_member (object, "share_method") && self->share_folder != NULL)
    casement_vm_config_set_share_method (self, CASEMENT_SHARE_METHOD_AUTO);

  return g_steal_pointer (&self);
}

/**
 * casement_vm_config_load:
 * @file: a vm.json
 * @error: a location for a #GError
 *
 * Reads @file. Blocking: the GUI calls it from a worker thread. A file that
 * cannot be parsed is reported (naming it) and left exactly as it is.
 *
 * Returns: (transfer full): the config, or %NULL with @error set
 */
CasementVmConfig *
casement_vm_config_load (GFile   *file,
                         GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *name = NULL;
  CasementVmConfig *self;
  gsize length;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_load_contents (file, NULL, &contents, &length, NULL, error))
    return NULL;

  if ((self = casement_vm_config_new_from_json (contents, length, &local_error)))
    return self;

  name = g_file_get_parse_name (file);

  if (g_error_matches (local_error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE))
    g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE,
                 _("Cannot read VM settings “%s”: %s. The file was left as it is; "
                   "repair it or restore it from a backup"),
                 name, local_error->message);
  else
    g_set_error (error, local_error->domain, local_error->code,
                 _("VM settings “%s”: %s"), name, local_error->message);

  return NULL;
}

/**
 * casement_vm_config_to_json:
 * @self: a #CasementVmConfig
 *
 * Returns: (transfer full): the config as pretty-printed JSON
 */
char *
casement_vm_config_to_json (CasementVmConfig *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), NULL);

  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "schema_version");
  json_builder_add_int_value (builder, CASEMENT_VM_CONFIG_SCHEMA_VERSION);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    write_field (self, &fields[i], builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);

  return g_strconcat (text, "\n", NULL);
}

/**
 * casement_vm_config_save:
 * @self: a #CasementVmConfig
 * @file: where to write; a local file
 * @error: a location for a #GError
 *
 * Writes the config atomically (temporary file, fsync, rename), readable
 * by the user only. Refuses a config that loading would reject, so a saved
 * file always reads back. Blocking.
 *
 * Returns: %TRUE on success
 */
gboolean
casement_vm_config_save (CasementVmConfig  *self,
                         GFile             *file,
                         GError           **error)
{
  g_autofree char *json = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(path = g_file_get_path (file)))
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Cannot save VM settings to “%s”: only local files are supported"), uri);
      return FALSE;
    }

  if (!check_fields (self, error))
    return FALSE;

  json = casement_vm_config_to_json (self);

  return g_file_set_contents_full (path, json, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0600, error);
}

/**
 * casement_vm_config_validate:
 * @self: a #CasementVmConfig
 * @error: a location for a #GError
 *
 * Runs the checks of loading, and those that need several fields at once
 * (Windows 11's minimums, a share folder without a method, …), as the
 * wizard and casementctl need before creating a VM. Touches no file.
 *
 * Returns: %TRUE when the config can be used to create a VM
 */
gboolean
casement_vm_config_validate (CasementVmConfig  *self,
                             GError           **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_fields (self, error))
    return FALSE;

  if (g_str_equal (self->os_id, "win11"))
    {
      if (self->memory_mib < WIN11_MIN_MEMORY_MIB)
        {
          g_autofree char *memory = g_strdup_printf ("%" G_GUINT64_FORMAT, self->memory_mib);

          g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                       _("Windows 11 needs at least %u MiB of memory (Microsoft's minimum), "
                         "but field “memory_mib” is %s"),
                       WIN11_MIN_MEMORY_MIB, memory);
          return FALSE;
        }

      /* A size of 0 means an existing disk is used as it is. */
      if (self->disk_size != 0 && self->disk_size < WIN11_MIN_DISK_SIZE)
        {
          g_autofree char *size = g_format_size_full (self->disk_size, G_FORMAT_SIZE_IEC_UNITS);

          g_set_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                       _("Windows 11 needs a disk of at least 64 GiB (Microsoft's minimum), "
                         "but field “disk_size” is %s"),
                       size);
          return FALSE;
        }

      if (!self->tpm)
        {
          g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                               _("Windows 11 does not install without a TPM 2.0; turn on field “tpm”"));
          return FALSE;
        }
    }

  if (self->share_folder != NULL && self->share_method == CASEMENT_SHARE_METHOD_NONE)
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Field “share_folder” is set but field “share_method” is “none”; "
                             "choose a share method or remove the folder"));
      return FALSE;
    }

  if (self->share_folder == NULL && self->share_method != CASEMENT_SHARE_METHOD_NONE)
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Field “share_method” asks for sharing but field “share_folder” is not set; "
                             "choose a folder or set the method to “none”"));
      return FALSE;
    }

  if (self->kernel == NULL && (self->initrd != NULL || self->kernel_cmdline != NULL))
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Fields “initrd” and “kernel_cmdline” only work with field “kernel”; "
                             "set the kernel or remove them"));
      return FALSE;
    }

  if (self->network == CASEMENT_NETWORK_NONE && self->port_forwards[0] != NULL)
    {
      g_set_error_literal (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID,
                           _("Field “port_forwards” needs a network; set field “network” to “user” "
                             "or remove the forwards"));
      return FALSE;
    }

  return TRUE;
}

#define DEFINE_STRING_ACCESSORS(field_name, PROP, kind)                              \
  const char *                                                                       \
  casement_vm_config_get_##field_name (CasementVmConfig *self)                       \
  {                                                                                  \
    g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), NULL);                       \
    return self->field_name;                                                         \
  }                                                                                  \
                                                                                     \
  void                                                                               \
  casement_vm_config_set_##field_name (CasementVmConfig *self,                       \
                                       const char       *value)                      \
  {                                                                                  \
    g_return_if_fail (CASEMENT_IS_VM_CONFIG (self));                                 \
    if (set_##kind##_string (&self->field_name, value))                              \
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);                  \
  }

#define DEFINE_BOOLEAN_ACCESSORS(field_name, PROP)                                   \
  gboolean                                                                           \
  casement_vm_config_get_##field_name (CasementVmConfig *self)                       \
  {                                                                                  \
    g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), FALSE);                      \
    return self->field_name;                                                         \
  }                                                                                  \
                                                                                     \
  void                                                                               \
  casement_vm_config_set_##field_name (CasementVmConfig *self,                       \
                                       gboolean          value)                      \
  {                                                                                  \
    g_return_if_fail (CASEMENT_IS_VM_CONFIG (self));                                 \
    value = !!value;                                                                 \
    if (self->field_name != value)                                                   \
      {                                                                              \
        self->field_name = value;                                                    \
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);                \
      }                                                                              \
  }

#define DEFINE_SCALAR_ACCESSORS(field_name, PROP, type)                              \
  type                                                                               \
  casement_vm_config_get_##field_name (CasementVmConfig *self)                       \
  {                                                                                  \
    g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), 0);                          \
    return self->field_name;                                                         \
  }                                                                                  \
                                                                                     \
  void                                                                               \
  casement_vm_config_set_##field_name (CasementVmConfig *self,                       \
                                       type              value)                      \
  {                                                                                  \
    g_return_if_fail (CASEMENT_IS_VM_CONFIG (self));                                 \
    if (self->field_name != value)                                                   \
      {                                                                              \
        self->field_name = value;                                                    \
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP]);                \
      }                                                                              \
  }

DEFINE_STRING_ACCESSORS (name, PROP_NAME, required)
DEFINE_STRING_ACCESSORS (os_id, PROP_OS_ID, required)
DEFINE_STRING_ACCESSORS (disk_path, PROP_DISK_PATH, required)
DEFINE_STRING_ACCESSORS (install_iso, PROP_INSTALL_ISO, optional)
DEFINE_STRING_ACCESSORS (drivers_iso, PROP_DRIVERS_ISO, optional)
DEFINE_STRING_ACCESSORS (unattend_media, PROP_UNATTEND_MEDIA, optional)
DEFINE_STRING_ACCESSORS (winfsp_installer, PROP_WINFSP_INSTALLER, optional)
DEFINE_STRING_ACCESSORS (kernel, PROP_KERNEL, optional)
DEFINE_STRING_ACCESSORS (initrd, PROP_INITRD, optional)
DEFINE_STRING_ACCESSORS (kernel_cmdline, PROP_KERNEL_CMDLINE, optional)
DEFINE_STRING_ACCESSORS (share_folder, PROP_SHARE_FOLDER, optional)
DEFINE_STRING_ACCESSORS (user_name, PROP_USER_NAME, optional)
DEFINE_STRING_ACCESSORS (computer_name, PROP_COMPUTER_NAME, optional)
DEFINE_STRING_ACCESSORS (language, PROP_LANGUAGE, optional)
DEFINE_STRING_ACCESSORS (keyboard, PROP_KEYBOARD, optional)
DEFINE_STRING_ACCESSORS (product_key, PROP_PRODUCT_KEY, optional)

DEFINE_BOOLEAN_ACCESSORS (installed, PROP_INSTALLED)
DEFINE_BOOLEAN_ACCESSORS (share_read_only, PROP_SHARE_READ_ONLY)
DEFINE_BOOLEAN_ACCESSORS (tpm, PROP_TPM)
DEFINE_BOOLEAN_ACCESSORS (secure_boot, PROP_SECURE_BOOT)
DEFINE_BOOLEAN_ACCESSORS (audio, PROP_AUDIO)
DEFINE_BOOLEAN_ACCESSORS (express_install, PROP_EXPRESS_INSTALL)

DEFINE_SCALAR_ACCESSORS (cpus, PROP_CPUS, guint)
DEFINE_SCALAR_ACCESSORS (memory_mib, PROP_MEMORY_MIB, guint64)
DEFINE_SCALAR_ACCESSORS (disk_size, PROP_DISK_SIZE, guint64)
DEFINE_SCALAR_ACCESSORS (share_method, PROP_SHARE_METHOD, CasementShareMethod)
DEFINE_SCALAR_ACCESSORS (network, PROP_NETWORK, CasementNetwork)

gboolean
casement_vm_config_is_windows (CasementVmConfig *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), FALSE);

  return g_str_has_prefix (self->os_id, "win");
}

/**
 * casement_vm_config_get_port_forwards:
 * @self: a #CasementVmConfig
 *
 * Returns: (transfer none): the forwards; empty, never %NULL
 */
const char * const *
casement_vm_config_get_port_forwards (CasementVmConfig *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (self), NULL);

  return (const char * const *)self->port_forwards;
}

void
casement_vm_config_set_port_forwards (CasementVmConfig   *self,
                                      const char * const *forwards)
{
  static const char * const none[] = { NULL };

  g_return_if_fail (CASEMENT_IS_VM_CONFIG (self));

  if (forwards == NULL)
    forwards = none;

  if (g_strv_equal ((const char * const *)self->port_forwards, forwards))
    return;

  g_strfreev (self->port_forwards);
  self->port_forwards = g_strdupv ((char **)forwards);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT_FORWARDS]);
}
