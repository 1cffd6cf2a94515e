/* casement-unattend.c
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

#define G_LOG_DOMAIN "casement-unattend"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "casement-iso.h"
#include "casement-media.h"
#include "casement-unattend.h"

/* Where Windows looks for an answer file on removable media. */
#define ANSWER_FILE_NAME   "autounattend.xml"
#define MEDIUM_LABEL       "CASEMENT"

#define COMPONENT_ATTRS \
  "processorArchitecture=\"amd64\" publicKeyToken=\"31bf3856ad364e35\" " \
  "language=\"neutral\" versionScope=\"nonSxS\""

/* Drive letters a CD may get. In Windows PE the empty system disk has no
 * letter, so the discs can start at C:; once Windows is installed, C: is
 * Windows. Setup skips driver paths that do not exist. */
static const char winpe_cd_letters[] = "CDEFGH";
#define INSTALLED_CD_LETTERS "D E F G H"

G_DEFINE_QUARK (casement-unattend-error-quark, casement_unattend_error)

/* ---- Checks ------------------------------------------------------------ */

static gboolean
set_invalid (GError     **error,
             const char  *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
set_invalid (GError     **error,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_INVALID,
                                                format, args));
  va_end (args);

  return FALSE;
}

static gboolean
has_control_chars (const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return TRUE;

  return FALSE;
}

gboolean
casement_unattend_check_computer_name (const char  *name,
                                       GError     **error)
{
  gboolean only_digits = TRUE;
  gsize len;

  g_return_val_if_fail (name != NULL, FALSE);

  len = strlen (name);
  for (const char *p = name; *p; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-')
        len = 0;
      if (!g_ascii_isdigit (*p))
        only_digits = FALSE;
    }

  /* NetBIOS names: Setup stops on anything longer or stranger. */
  if (len == 0 || len > 15 || only_digits)
    return set_invalid (error,
                        _("“%s” cannot be a Windows computer name: use 1 to 15 letters (A–Z), digits "
                          "and hyphens, not only digits"),
                        name);

  return TRUE;
}

gboolean
casement_unattend_check_language (const char  *tag,
                                  GError     **error)
{
  g_return_val_if_fail (tag != NULL, FALSE);

  /* Windows locales name a language and a region: "en-US", "sr-Latn-RS",
   * "es-419". A bare "de" is a neutral culture Setup does not take. */
  if (!g_regex_match_simple ("^[a-z]{2,3}(-[a-z]{4})?-([a-z]{2}|[0-9]{3})$", tag, G_REGEX_CASELESS, 0))
    return set_invalid (error,
                        _("“%s” is not a language Windows can use: write a language and a region, "
                          "such as en-US or de-DE"),
                        tag);

  return TRUE;
}

gboolean
casement_unattend_check_user_name (const char  *name,
                                   GError     **error)
{
  static const char * const reserved[] = {
    "Administrator", "Administrators", "Guest", "Guests", "DefaultAccount",
    "WDAGUtilityAccount", "defaultuser0", "System", "Users",
  };
  gboolean only_dots_and_spaces = TRUE;

  g_return_val_if_fail (name != NULL, FALSE);

  for (const char *p = name; *p; p++)
    if (*p != '.' && *p != ' ')
      only_dots_and_spaces = FALSE;

  /* % would be expanded in the commands run at first logon. */
  if (name[0] == '\0' || only_dots_and_spaces || g_utf8_strlen (name, -1) > 20 ||
      has_control_chars (name) || strpbrk (name, "\"/\\[]:;|=,+*?<>@%") != NULL)
    return set_invalid (error,
                        _("“%s” cannot be a Windows user name: use at most 20 characters, none of "
                          "\" / \\ [ ] : ; | = , + * ? < > @ %%"),
                        name);

  for (guint i = 0; i < G_N_ELEMENTS (reserved); i++)
    if (g_ascii_strcasecmp (name, reserved[i]) == 0)
      return set_invalid (error,
                          _("“%s” is the name of an account Windows already has; choose another user name"),
                          name);

  return TRUE;
}

static gboolean
check_input_locale (const char  *keyboard,
                    GError     **error)
{
  /* "0409:00000409" (language:layout), "en-US", or several joined by ';' */
  if (!g_regex_match_simple ("^([0-9a-f]{4}:([0-9a-f]{8}|\\{[0-9a-f-]{36}\\}\\{[0-9a-f-]{36}\\})"
                             "|[a-z]{2,3}(-[a-z]{4})?-([a-z]{2}|[0-9]{3}))"
                             "(;([0-9a-f]{4}:([0-9a-f]{8}|\\{[0-9a-f-]{36}\\}\\{[0-9a-f-]{36}\\})"
                             "|[a-z]{2,3}(-[a-z]{4})?-([a-z]{2}|[0-9]{3})))*$",
                             keyboard, G_REGEX_CASELESS, 0))
    return set_invalid (error,
                        _("“%s” is not a Windows keyboard: write an input locale such as en-US or "
                          "0409:00000409"),
                        keyboard);

  return TRUE;
}

static gboolean
check_product_key (const char  *key,
                   GError     **error)
{
  /* The key itself stays out of the message: errors end up in logs. */
  if (!g_regex_match_simple ("^([0-9A-Z]{5}-){4}[0-9A-Z]{5}$", key, G_REGEX_CASELESS, 0))
    return set_invalid (error, _("The product key must have the form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"));

  return TRUE;
}

/* ---- Answers from the host --------------------------------------------- */

/* The host locale ("de_DE.UTF-8") as a Windows locale ("de-DE"). */
static char *
dup_host_language (void)
{
  const char * const *names = g_get_language_names ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *tag = g_strdup (names[i]);

      tag[strcspn (tag, ".@")] = '\0';
      g_strdelimit (tag, "_", '-');

      if (casement_unattend_check_language (tag, NULL))
        return g_steal_pointer (&tag);
    }

  return g_strdup ("en-US");
}

/* A computer name from the VM's name: "Work PC (2025)" → "WORK-PC-2025". */
static char *
dup_computer_name_for (const char *vm_name)
{
  g_autoptr(GString) name = g_string_new (NULL);

  for (const char *p = vm_name; *p && name->len < 15; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (name, g_ascii_toupper (*p));
      else if (name->len > 0 && name->str[name->len - 1] != '-')
        g_string_append_c (name, '-');
    }

  while (name->len > 0 && name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);

  if (!casement_unattend_check_computer_name (name->str, NULL))
    return g_strdup ("WINDOWS-VM");

  return g_string_free (g_steal_pointer (&name), FALSE);
}

/* IANA → Windows time zone names, after CLDR's windowsZones table, for
 * the zones people mostly live in. */
static const struct {
  const char *iana;
  const char *windows;
} time_zones[] = {
  { "UTC", "UTC" }, { "Etc/UTC", "UTC" }, { "Etc/UCT", "UTC" }, { "Etc/Universal", "UTC" },
  { "Etc/Zulu", "UTC" }, { "Etc/GMT", "UTC" }, { "Universal", "UTC" }, { "Zulu", "UTC" },
  { "GMT", "UTC" }, { "UCT", "UTC" },

  { "Europe/London", "GMT Standard Time" }, { "Europe/Dublin", "GMT Standard Time" },
  { "Europe/Lisbon", "GMT Standard Time" }, { "Europe/Belfast", "GMT Standard Time" },
  { "Europe/Guernsey", "GMT Standard Time" }, { "Europe/Isle_of_Man", "GMT Standard Time" },
  { "Europe/Jersey", "GMT Standard Time" }, { "Atlantic/Canary", "GMT Standard Time" },
  { "Atlantic/Madeira", "GMT Standard Time" }, { "Atlantic/Faroe", "GMT Standard Time" },
  { "Atlantic/Reykjavik", "Greenwich Standard Time" }, { "Africa/Abidjan", "Greenwich Standard Time" },
  { "Africa/Accra", "Greenwich Standard Time" }, { "Africa/Dakar", "Greenwich Standard Time" },
  { "Europe/Berlin", "W. Europe Standard Time" }, { "Europe/Amsterdam", "W. Europe Standard Time" },
  { "Europe/Andorra", "W. Europe Standard Time" }, { "Europe/Vienna", "W. Europe Standard Time" },
  { "Europe/Zurich", "W. Europe Standard Time" }, { "Europe/Rome", "W. Europe Standard Time" },
  { "Europe/San_Marino", "W. Europe Standard Time" }, { "Europe/Vatican", "W. Europe Standard Time" },
  { "Europe/Malta", "W. Europe Standard Time" }, { "Europe/Monaco", "W. Europe Standard Time" },
  { "Europe/Luxembourg", "W. Europe Standard Time" }, { "Europe/Stockholm", "W. Europe Standard Time" },
  { "Europe/Oslo", "W. Europe Standard Time" }, { "Europe/Gibraltar", "W. Europe Standard Time" },
  { "Europe/Vaduz", "W. Europe Standard Time" }, { "Europe/Busingen", "W. Europe Standard Time" },
  { "Europe/Paris", "Romance Standard Time" }, { "Europe/Brussels", "Romance Standard Time" },
  { "Europe/Madrid", "Romance Standard Time" }, { "Europe/Copenhagen", "Romance Standard Time" },
  { "Africa/Ceuta", "Romance Standard Time" },
  { "Europe/Warsaw", "Central European Standard Time" }, { "Europe/Zagreb", "Central European Standard Time" },
  { "Europe/Sarajevo", "Central European Standard Time" }, { "Europe/Skopje", "Central European Standard Time" },
  { "Europe/Budapest", "Central Europe Standard Time" }, { "Europe/Prague", "Central Europe Standard Time" },
  { "Europe/Belgrade", "Central Europe Standard Time" }, { "Europe/Bratislava", "Central Europe Standard Time" },
  { "Europe/Ljubljana", "Central Europe Standard Time" }, { "Europe/Podgorica", "Central Europe Standard Time" },
  { "Europe/Tirane", "Central Europe Standard Time" },
  { "Europe/Athens", "GTB Standard Time" }, { "Europe/Bucharest", "GTB Standard Time" },
  { "Asia/Nicosia", "GTB Standard Time" }, { "Europe/Nicosia", "GTB Standard Time" },
  { "Europe/Helsinki", "FLE Standard Time" }, { "Europe/Kyiv", "FLE Standard Time" },
  { "Europe/Kiev", "FLE Standard Time" }, { "Europe/Riga", "FLE Standard Time" },
  { "Europe/Sofia", "FLE Standard Time" }, { "Europe/Tallinn", "FLE Standard Time" },
  { "Europe/Vilnius", "FLE Standard Time" }, { "Europe/Mariehamn", "FLE Standard Time" },
  { "Europe/Chisinau", "E. Europe Standard Time" },
  { "Europe/Istanbul", "Turkey Standard Time" }, { "Asia/Istanbul", "Turkey Standard Time" },
  { "Europe/Moscow", "Russian Standard Time" }, { "Europe/Simferopol", "Russian Standard Time" },
  { "Europe/Minsk", "Belarus Standard Time" }, { "Europe/Kaliningrad", "Kaliningrad Standard Time" },
  { "Europe/Samara", "Russia Time Zone 3" },

  { "America/New_York", "Eastern Standard Time" }, { "America/Detroit", "Eastern Standard Time" },
  { "America/Toronto", "Eastern Standard Time" }, { "America/Montreal", "Eastern Standard Time" },
  { "America/Nassau", "Eastern Standard Time" }, { "America/Kentucky/Louisville", "Eastern Standard Time" },
  { "US/Eastern", "Eastern Standard Time" },
  { "America/Indiana/Indianapolis", "US Eastern Standard Time" },
  { "America/Indianapolis", "US Eastern Standard Time" },
  { "America/Chicago", "Central Standard Time" }, { "America/Winnipeg", "Central Standard Time" },
  { "America/Matamoros", "Central Standard Time" }, { "US/Central", "Central Standard Time" },
  { "America/Mexico_City", "Central Standard Time (Mexico)" },
  { "America/Monterrey", "Central Standard Time (Mexico)" },
  { "America/Merida", "Central Standard Time (Mexico)" },
  { "America/Cancun", "Eastern Standard Time (Mexico)" },
  { "America/Regina", "Canada Central Standard Time" },
  { "America/Denver", "Mountain Standard Time" }, { "America/Edmonton", "Mountain Standard Time" },
  { "America/Boise", "Mountain Standard Time" }, { "US/Mountain", "Mountain Standard Time" },
  { "America/Phoenix", "US Mountain Standard Time" },
  { "America/Los_Angeles", "Pacific Standard Time" }, { "America/Vancouver", "Pacific Standard Time" },
  { "US/Pacific", "Pacific Standard Time" },
  { "America/Tijuana", "Pacific Standard Time (Mexico)" },
  { "America/Anchorage", "Alaskan Standard Time" }, { "America/Juneau", "Alaskan Standard Time" },
  { "Pacific/Honolulu", "Hawaiian Standard Time" },
  { "America/Halifax", "Atlantic Standard Time" }, { "America/Moncton", "Atlantic Standard Time" },
  { "America/Glace_Bay", "Atlantic Standard Time" }, { "Atlantic/Bermuda", "Atlantic Standard Time" },
  { "America/St_Johns", "Newfoundland Standard Time" },
  { "America/Sao_Paulo", "E. South America Standard Time" },
  { "America/Argentina/Buenos_Aires", "Argentina Standard Time" },
  { "America/Buenos_Aires", "Argentina Standard Time" },
  { "America/Bogota", "SA Pacific Standard Time" }, { "America/Lima", "SA Pacific Standard Time" },
  { "America/Panama", "SA Pacific Standard Time" }, { "America/Guayaquil", "SA Pacific Standard Time" },
  { "America/Jamaica", "SA Pacific Standard Time" },
  { "America/Santiago", "Pacific SA Standard Time" },
  { "America/Caracas", "Venezuela Standard Time" },
  { "America/Montevideo", "Montevideo Standard Time" },
  { "America/Guatemala", "Central America Standard Time" },
  { "America/Costa_Rica", "Central America Standard Time" },
  { "America/El_Salvador", "Central America Standard Time" },
  { "America/Tegucigalpa", "Central America Standard Time" },
  { "America/Managua", "Central America Standard Time" },
  { "America/La_Paz", "SA Western Standard Time" }, { "America/Puerto_Rico", "SA Western Standard Time" },
  { "America/Santo_Domingo", "SA Western Standard Time" }, { "America/Manaus", "SA Western Standard Time" },

  { "Asia/Tokyo", "Tokyo Standard Time" }, { "Asia/Seoul", "Korea Standard Time" },
  { "Asia/Shanghai", "China Standard Time" }, { "Asia/Hong_Kong", "China Standard Time" },
  { "Asia/Macau", "China Standard Time" }, { "Asia/Chongqing", "China Standard Time" },
  { "Asia/Harbin", "China Standard Time" }, { "PRC", "China Standard Time" },
  { "Asia/Taipei", "Taipei Standard Time" },
  { "Asia/Singapore", "Singapore Standard Time" }, { "Asia/Kuala_Lumpur", "Singapore Standard Time" },
  { "Asia/Manila", "Singapore Standard Time" }, { "Asia/Makassar", "Singapore Standard Time" },
  { "Asia/Brunei", "Singapore Standard Time" },
  { "Asia/Kolkata", "India Standard Time" }, { "Asia/Calcutta", "India Standard Time" },
  { "Asia/Colombo", "Sri Lanka Standard Time" }, { "Asia/Kathmandu", "Nepal Standard Time" },
  { "Asia/Dhaka", "Bangladesh Standard Time" },
  { "Asia/Dubai", "Arabian Standard Time" }, { "Asia/Muscat", "Arabian Standard Time" },
  { "Asia/Riyadh", "Arab Standard Time" }, { "Asia/Kuwait", "Arab Standard Time" },
  { "Asia/Qatar", "Arab Standard Time" }, { "Asia/Bahrain", "Arab Standard Time" },
  { "Asia/Aden", "Arab Standard Time" },
  { "Asia/Baghdad", "Arabic Standard Time" }, { "Asia/Tehran", "Iran Standard Time" },
  { "Asia/Jerusalem", "Israel Standard Time" }, { "Asia/Tel_Aviv", "Israel Standard Time" },
  { "Asia/Beirut", "Middle East Standard Time" }, { "Asia/Amman", "Jordan Standard Time" },
  { "Asia/Karachi", "Pakistan Standard Time" }, { "Asia/Tashkent", "West Asia Standard Time" },
  { "Asia/Almaty", "Central Asia Standard Time" },
  { "Asia/Bangkok", "SE Asia Standard Time" }, { "Asia/Jakarta", "SE Asia Standard Time" },
  { "Asia/Ho_Chi_Minh", "SE Asia Standard Time" }, { "Asia/Saigon", "SE Asia Standard Time" },
  { "Asia/Phnom_Penh", "SE Asia Standard Time" }, { "Asia/Vientiane", "SE Asia Standard Time" },
  { "Asia/Yangon", "Myanmar Standard Time" }, { "Asia/Kabul", "Afghanistan Standard Time" },
  { "Asia/Yekaterinburg", "Ekaterinburg Standard Time" },
  { "Asia/Novosibirsk", "N. Central Asia Standard Time" },
  { "Asia/Krasnoyarsk", "North Asia Standard Time" },
  { "Asia/Irkutsk", "North Asia East Standard Time" },
  { "Asia/Vladivostok", "Vladivostok Standard Time" },
  { "Asia/Tbilisi", "Georgian Standard Time" }, { "Asia/Yerevan", "Caucasus Standard Time" },
  { "Asia/Baku", "Azerbaijan Standard Time" },

  { "Australia/Sydney", "AUS Eastern Standard Time" }, { "Australia/Melbourne", "AUS Eastern Standard Time" },
  { "Australia/Canberra", "AUS Eastern Standard Time" }, { "Australia/ACT", "AUS Eastern Standard Time" },
  { "Australia/NSW", "AUS Eastern Standard Time" }, { "Australia/Victoria", "AUS Eastern Standard Time" },
  { "Australia/Brisbane", "E. Australia Standard Time" }, { "Australia/Lindeman", "E. Australia Standard Time" },
  { "Australia/Queensland", "E. Australia Standard Time" },
  { "Australia/Adelaide", "Cen. Australia Standard Time" },
  { "Australia/Broken_Hill", "Cen. Australia Standard Time" },
  { "Australia/Darwin", "AUS Central Standard Time" }, { "Australia/Perth", "W. Australia Standard Time" },
  { "Australia/Hobart", "Tasmania Standard Time" },
  { "Pacific/Auckland", "New Zealand Standard Time" }, { "Antarctica/McMurdo", "New Zealand Standard Time" },
  { "NZ", "New Zealand Standard Time" },
  { "Pacific/Fiji", "Fiji Standard Time" },
  { "Pacific/Guam", "West Pacific Standard Time" }, { "Pacific/Port_Moresby", "West Pacific Standard Time" },

  { "Africa/Johannesburg", "South Africa Standard Time" }, { "Africa/Maputo", "South Africa Standard Time" },
  { "Africa/Harare", "South Africa Standard Time" }, { "Africa/Lusaka", "South Africa Standard Time" },
  { "Africa/Cairo", "Egypt Standard Time" },
  { "Africa/Lagos", "W. Central Africa Standard Time" }, { "Africa/Algiers", "W. Central Africa Standard Time" },
  { "Africa/Tunis", "W. Central Africa Standard Time" }, { "Africa/Kinshasa", "W. Central Africa Standard Time" },
  { "Africa/Luanda", "W. Central Africa Standard Time" },
  { "Africa/Nairobi", "E. Africa Standard Time" }, { "Africa/Addis_Ababa", "E. Africa Standard Time" },
  { "Africa/Dar_es_Salaam", "E. Africa Standard Time" }, { "Africa/Kampala", "E. Africa Standard Time" },
  { "Africa/Casablanca", "Morocco Standard Time" }, { "Africa/Windhoek", "Namibia Standard Time" },
};

const char *
casement_unattend_windows_time_zone (const char *iana)
{
  g_return_val_if_fail (iana != NULL, "UTC");

  for (guint i = 0; i < G_N_ELEMENTS (time_zones); i++)
    if (g_str_equal (time_zones[i].iana, iana))
      return time_zones[i].windows;

  return "UTC";
}

static char *
dup_host_time_zone (void)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  const char *identifier = g_time_zone_get_identifier (local);

  /* TZ may be ":Europe/Berlin" or a path into the zoneinfo folder. */
  if (identifier[0] == ':')
    identifier++;
  if (strstr (identifier, "zoneinfo/") != NULL)
    identifier = strstr (identifier, "zoneinfo/") + strlen ("zoneinfo/");

  return g_strdup (identifier);
}

/* ---- Writing the XML --------------------------------------------------- */

typedef struct
{
  GString *out;
  guint    depth;
} Xml;

static void
xml_indent (Xml *xml)
{
  for (guint i = 0; i < xml->depth; i++)
    g_string_append (xml->out, "  ");
}

/* @tag may carry attributes; they are Casement's own, never user text. */
static void
xml_open (Xml        *xml,
          const char *tag)
{
  xml_indent (xml);
  g_string_append_printf (xml->out, "<%s>\n", tag);
  xml->depth++;
}

static void
xml_close (Xml        *xml,
           const char *tag)
{
  g_assert (xml->depth > 0);

  xml->depth--;
  xml_indent (xml);
  g_string_append_printf (xml->out, "</%s>\n", tag);
}

static void
xml_element (Xml        *xml,
             const char *tag,
             const char *value)
{
  g_autofree char *escaped = g_markup_escape_text (value, -1);

  xml_indent (xml);
  g_string_append_printf (xml->out, "<%s>%s</%s>\n", tag, escaped, tag);
}

static void
xml_element_uint (Xml        *xml,
                  const char *tag,
                  guint       value)
{
  g_autofree char *text = g_strdup_printf ("%u", value);

  xml_element (xml, tag, text);
}

static void
xml_comment (Xml        *xml,
             const char *text)
{
  g_assert (strstr (text, "--") == NULL);

  xml_indent (xml);
  g_string_append_printf (xml->out, "<!-- %s -->\n", text);
}

static void
xml_open_component (Xml        *xml,
                    const char *name)
{
  g_autofree char *tag = g_strdup_printf ("component name=\"%s\" " COMPONENT_ATTRS, name);

  xml_open (xml, tag);
}

/* Windows' "hide sensitive data" form: base64 of the UTF-16LE text with
 * the element's name appended. It is obfuscation, not protection; the
 * medium holding it is written mode 0600 and deleted after the install. */
static char *
obfuscate_password (const char *password,
                    const char *element)
{
  g_autofree char *text = g_strconcat (password, element, NULL);
  g_autofree char *utf16 = NULL;
  gsize len = 0;

  utf16 = g_convert (text, -1, "UTF-16LE", "UTF-8", NULL, &len, NULL);
  g_assert (utf16 != NULL);

  return g_base64_encode ((const guchar *) utf16, len);
}

static void
xml_password (Xml        *xml,
              const char *tag,
              const char *password)
{
  g_autofree char *value = obfuscate_password (password, "Password");

  xml_open (xml, tag);
  xml_element (xml, "Value", value);
  xml_element (xml, "PlainText", "false");
  xml_close (xml, tag);
}

static void
xml_international (Xml        *xml,
                   const char *component,
                   const char *ui_language,
                   const char *language,
                   const char *keyboard)
{
  xml_open_component (xml, component);
  if (g_str_equal (component, "Microsoft-Windows-International-Core-WinPE"))
    {
      xml_open (xml, "SetupUILanguage");
      xml_element (xml, "UILanguage", ui_language);
      xml_close (xml, "SetupUILanguage");
    }
  xml_element (xml, "InputLocale", keyboard);
  xml_element (xml, "SystemLocale", language);
  xml_element (xml, "UILanguage", ui_language);
  xml_element (xml, "UserLocale", language);
  xml_close (xml, "component");
}

static void
xml_driver_paths (Xml        *xml,
                  const char *os_id)
{
  const char * const *drivers = casement_media_get_required_drivers ();
  const char *os_dir = casement_media_virtio_os_dir (os_id);
  guint key = 1;

  xml_open_component (xml, "Microsoft-Windows-PnpCustomizationsWinPE");
  xml_comment (xml, "virtio-win drivers, on whichever letter its disc gets");
  xml_open (xml, "DriverPaths");

  for (guint l = 0; winpe_cd_letters[l] != '\0'; l++)
    for (guint d = 0; drivers[d] != NULL; d++)
      {
        const char *dirs[] = { os_dir, casement_media_virtio_fallback_dir (drivers[d], os_id) };

        for (guint i = 0; i < G_N_ELEMENTS (dirs) && dirs[i] != NULL; i++)
          {
            g_autofree char *open = g_strdup_printf ("PathAndCredentials wcm:action=\"add\" "
                                                     "wcm:keyValue=\"%u\"", key++);
            g_autofree char *path = g_strdup_printf ("%c:\\%s\\%s\\amd64",
                                                     winpe_cd_letters[l], drivers[d], dirs[i]);

            xml_open (xml, open);
            xml_element (xml, "Path", path);
            xml_close (xml, "PathAndCredentials");
          }
      }

  xml_close (xml, "DriverPaths");
  xml_close (xml, "component");
}

static void
xml_partition (Xml        *xml,
               guint       order,
               const char *type,
               guint       size_mib)
{
  xml_open (xml, "CreatePartition wcm:action=\"add\"");
  xml_element_uint (xml, "Order", order);
  xml_element (xml, "Type", type);
  if (size_mib > 0)
    xml_element_uint (xml, "Size", size_mib);
  else
    xml_element (xml, "Extend", "true");
  xml_close (xml, "CreatePartition");
}

static void
xml_modify_partition (Xml        *xml,
                      guint       order,
                      const char *format,
                      const char *label,
                      const char *letter,
                      const char *type_id)
{
  xml_open (xml, "ModifyPartition wcm:action=\"add\"");
  xml_element_uint (xml, "Order", order);
  xml_element_uint (xml, "PartitionID", order);
  if (format != NULL)
    xml_element (xml, "Format", format);
  if (label != NULL)
    xml_element (xml, "Label", label);
  if (letter != NULL)
    xml_element (xml, "Letter", letter);
  if (type_id != NULL)
    xml_element (xml, "TypeID", type_id);
  xml_close (xml, "ModifyPartition");
}

/* Wipes disk 0 (the VM's new disk) and lays it out for UEFI: EFI system
 * partition, MSR, Windows; with a recovery partition first when asked.
 * Returns the number of the Windows partition. */
static guint
xml_disk_configuration (Xml      *xml,
                        gboolean  recovery)
{
  guint order = 1;
  guint windows_partition;

  xml_open (xml, "DiskConfiguration");
  xml_open (xml, "Disk wcm:action=\"add\"");
  xml_element (xml, "DiskID", "0");
  xml_element (xml, "WillWipeDisk", "true");

  xml_open (xml, "CreatePartitions");
  if (recovery)
    xml_partition (xml, order++, "Primary", 1024);
  xml_partition (xml, order++, "EFI", 100);
  xml_partition (xml, order++, "MSR", 16);
  xml_partition (xml, order, "Primary", 0);
  windows_partition = order;
  xml_close (xml, "CreatePartitions");

  order = 1;
  xml_open (xml, "ModifyPartitions");
  if (recovery)
    xml_modify_partition (xml, order++, "NTFS", "WinRE", NULL, "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC");
  xml_modify_partition (xml, order++, "FAT32", "System", NULL, NULL);
  xml_modify_partition (xml, order++, NULL, NULL, NULL, NULL);
  xml_modify_partition (xml, order, "NTFS", "Windows", "C", NULL);
  xml_close (xml, "ModifyPartitions");

  xml_close (xml, "Disk");
  xml_element (xml, "WillShowUI", "OnError");
  xml_close (xml, "DiskConfiguration");

  return windows_partition;
}

/* Generic keys choose an edition and activate nothing: the KMS client
 * setup keys Microsoft publishes, and the generic install keys for the
 * Home editions, which have no KMS key. Only used when the user gave no
 * key of their own; Windows then asks for a real one to activate. */
static const struct {
  const char *edition_id;
  const char *key;
} generic_keys[] = {
  { "Professional", "W269N-WFGWX-YVC9B-4J6C9-T83GX" },
  { "ProfessionalN", "MH37W-N47XK-V7XM9-C7227-GCQG9" },
  { "ProfessionalWorkstation", "NRG8B-VKK3Q-CXVCJ-9G2XF-6Q84J" },
  { "ProfessionalEducation", "6TP4R-GNPTD-KYYHQ-7B7DP-J447Y" },
  { "Education", "NW6C2-QMPVW-D7KKK-3GKT6-VCFB2" },
  { "EducationN", "2WH4N-8QGBV-H22JP-CT43Q-MDWWJ" },
  { "Enterprise", "NPPR9-FWDCX-D2C8J-H872K-2YT43" },
  { "EnterpriseN", "DPH2V-TTNVB-4X9Q3-TJR4H-KHJW4" },
  { "Core", "YTMG3-N6DKC-DKB77-7M9GH-8HVX7" },
  { "CoreN", "4CPRK-NM3K3-X6XXQ-RXX86-WXCHW" },
  { "CoreSingleLanguage", "BT79Q-G7N6G-PGBYW-4YWX6-6F4BT" },
};

static void
xml_image_and_user (Xml                           *xml,
                    CasementVmConfig              *config,
                    const CasementUnattendOptions *options,
                    const char                    *full_name,
                    guint                          windows_partition)
{
  const char *user_key = casement_vm_config_get_product_key (config);
  const char *generic_key = NULL;
  gboolean evaluation = options->edition_id != NULL && g_str_has_suffix (options->edition_id, "Eval");

  if (user_key == NULL && !evaluation)
    {
      /* Pro, when the disc does not say which editions it has: what the
       * consumer discs offer and what most people buy. */
      generic_key = generic_keys[0].key;
      for (guint i = 0; options->edition_id != NULL && i < G_N_ELEMENTS (generic_keys); i++)
        if (g_str_equal (generic_keys[i].edition_id, options->edition_id))
          generic_key = generic_keys[i].key;
    }

  xml_open (xml, "ImageInstall");
  xml_open (xml, "OSImage");
  /* The user's key picks its own edition; the index would fight it. */
  if (user_key == NULL && options->image_index > 0)
    {
      xml_open (xml, "InstallFrom");
      xml_open (xml, "MetaData wcm:action=\"add\"");
      xml_element (xml, "Key", "/IMAGE/INDEX");
      xml_element_uint (xml, "Value", options->image_index);
      xml_close (xml, "MetaData");
      xml_close (xml, "InstallFrom");
    }
  xml_open (xml, "InstallTo");
  xml_element (xml, "DiskID", "0");
  xml_element_uint (xml, "PartitionID", windows_partition);
  xml_close (xml, "InstallTo");
  xml_element (xml, "InstallToAvailablePartition", "false");
  xml_element (xml, "WillShowUI", "OnError");
  xml_close (xml, "OSImage");
  xml_close (xml, "ImageInstall");

  xml_open (xml, "UserData");
  xml_element (xml, "AcceptEula", "true");
  xml_element (xml, "FullName", full_name);
  /* Evaluation discs take no key at all. */
  if (!evaluation)
    {
      xml_open (xml, "ProductKey");
      if (generic_key != NULL)
        xml_comment (xml, "A generic key: it selects the edition and does not activate Windows");
      xml_element (xml, "Key", user_key != NULL ? user_key : generic_key);
      xml_element (xml, "WillShowUI", "OnError");
      xml_close (xml, "ProductKey");
    }
  xml_close (xml, "UserData");
}

typedef struct
{
  Xml   *xml;
  guint  order;
} Commands;

static void
add_command (Commands   *commands,
             const char *description,
             const char *command_line)
{
  Xml *xml = commands->xml;

  xml_open (xml, "SynchronousCommand wcm:action=\"add\"");
  xml_element_uint (xml, "Order", commands->order++);
  xml_element (xml, "Description", description);
  xml_element (xml, "CommandLine", command_line);
  xml_element (xml, "RequiresUserInput", "false");
  xml_close (xml, "SynchronousCommand");
}

/* Runs once, as the new user, at the first logon (AutoLogon makes it
 * happen without anyone typing). Plain cmd lines: no scripts to ship. */
static void
xml_first_logon_commands (Xml                *xml,
                          CasementShareMethod method)
{
  Commands commands = { xml, 1 };
  gboolean virtiofs = method == CASEMENT_SHARE_METHOD_VIRTIOFS || method == CASEMENT_SHARE_METHOD_AUTO;
  gboolean smb = method == CASEMENT_SHARE_METHOD_SMB || method == CASEMENT_SHARE_METHOD_AUTO;
  gboolean webdav = method == CASEMENT_SHARE_METHOD_WEBDAV || method == CASEMENT_SHARE_METHOD_AUTO;

  xml_open (xml, "FirstLogonCommands");

  /* All virtio drivers, the QEMU guest agent and the SPICE agent */
  add_command (&commands, "Install virtio-win guest tools",
               "cmd /c for %d in (" INSTALLED_CD_LETTERS ") do if exist %d:\\virtio-win-guest-tools.exe "
               "start \"\" /wait %d:\\virtio-win-guest-tools.exe /install /passive /norestart");

  /* Accounts made by an answer file get Windows' 42-day password expiry. */
  add_command (&commands, "Keep the password from expiring", "net accounts /maxpwage:unlimited");

  /* With AUTO the host picks virtiofs, SMB or WebDAV at each start, so
   * the guest is made ready for all; those not in use fail quietly. */
  if (virtiofs)
    {
      /* The VirtIO-FS service needs WinFsp, which virtio-win discs seldom
       * carry: the answer medium does when the user pointed to one. Without
       * INSTALLLEVEL, WinFsp's MSI installs its core alone, which is what
       * the service uses. msiexec returns at once unless waited for, and
       * the service must not start before WinFsp is there. */
      add_command (&commands, "Install WinFsp for the shared folder",
                   "cmd /c for %d in (" INSTALLED_CD_LETTERS ") do for %f in (%d:\\winfsp*.msi) do "
                   "start \"\" /wait msiexec /i \"%f\" /qn /norestart");
      add_command (&commands, "Start the shared folder with Windows", "sc config VirtioFsSvc start= auto");
      add_command (&commands, "Start the shared folder now", "sc start VirtioFsSvc");
    }

  if (smb)
    {
      /* QEMU's SMB server only offers guest access, which Windows refuses
       * by default, and Windows 11 24H2 also demands signing it cannot do. */
      add_command (&commands, "Allow the guest-access shared folder",
                   "reg add HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\LanmanWorkstation "
                   "/v AllowInsecureGuestAuth /t REG_DWORD /d 1 /f");
      add_command (&commands, "Do not require SMB signing for the shared folder",
                   "reg add HKLM\\SYSTEM\\CurrentControlSet\\Services\\LanmanWorkstation\\Parameters "
                   "/v RequireSecuritySignature /t REG_DWORD /d 0 /f");
      add_command (&commands, "Apply the SMB settings",
                   "cmd /c net stop LanmanWorkstation /y & net start LanmanWorkstation");
      add_command (&commands, "Map the shared folder as Z:", "net use Z: \\\\10.0.2.4\\qemu /persistent:yes");
    }

  if (webdav)
    {
      /* spice-webdavd maps the folder the SPICE client serves as a drive,
       * through Windows' WebDAV redirector (the WebClient service). It is
       * not in virtio-win either. */
      add_command (&commands, "Start the WebDAV redirector with Windows", "sc config WebClient start= auto");
      add_command (&commands, "Start the WebDAV redirector now", "sc start WebClient");
      add_command (&commands, "Install spice-webdavd for the shared folder",
                   "cmd /c for %d in (" INSTALLED_CD_LETTERS ") do for %f in (%d:\\spice-webdavd*.msi) do "
                   "msiexec /i \"%f\" /qn /norestart");
      add_command (&commands, "Start spice-webdavd with Windows", "sc config spice-webdavd start= auto");
      add_command (&commands, "Start spice-webdavd now", "sc start spice-webdavd");
    }

  add_command (&commands, "Tell Casement the install is complete",
               "cmd /c mkdir C:\\ProgramData\\Casement & echo installed> " CASEMENT_UNATTEND_DONE_MARKER);

  xml_close (xml, "FirstLogonCommands");
}

char *
casement_unattend_build (CasementVmConfig               *config,
                         const char                     *password,
                         const CasementUnattendOptions  *options,
                         GError                        **error)
{
  static const CasementUnattendOptions no_options = { 0, };
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *language = NULL;
  g_autofree char *computer_name = NULL;
  g_autofree char *time_zone = NULL;
  Xml xml = { out, 0 };
  const char *os_id;
  const char *user_name;
  const char *ui_language;
  const char *keyboard;
  const char *full_name;
  const char *product_key;
  const char *windows_zone;
  guint windows_partition;

  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (config), NULL);
  g_return_val_if_fail (password != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &no_options;

  os_id = casement_vm_config_get_os_id (config);
  if (g_strcmp0 (os_id, "win11") != 0 && g_strcmp0 (os_id, "win10") != 0)
    {
      g_set_error (error, CASEMENT_UNATTEND_ERROR, CASEMENT_UNATTEND_ERROR_UNSUPPORTED,
                   _("Express install is for Windows 10 and 11, not “%s”; install this system by hand"),
                   os_id ? os_id : "");
      return NULL;
    }

  user_name = casement_vm_config_get_user_name (config);
  if (user_name == NULL)
    {
      set_invalid (error, _("Express install needs a user name for the Windows account"));
      return NULL;
    }
  if (!casement_unattend_check_user_name (user_name, error))
    return NULL;

  if (!g_utf8_validate (password, -1, NULL) || has_control_chars (password) ||
      g_utf8_strlen (password, -1) > 127)
    {
      set_invalid (error, _("The password must be at most 127 characters, without control characters"));
      return NULL;
    }

  if (casement_vm_config_get_computer_name (config) != NULL)
    computer_name = g_strdup (casement_vm_config_get_computer_name (config));
  else
    computer_name = dup_computer_name_for (casement_vm_config_get_name (config));
  if (!casement_unattend_check_computer_name (computer_name, error))
    return NULL;
  if (g_ascii_strcasecmp (computer_name, user_name) == 0)
    {
      set_invalid (error, _("Windows refuses a user named like the computer (“%s”); change one of them"),
                   user_name);
      return NULL;
    }

  if (casement_vm_config_get_language (config) != NULL)
    language = g_strdup (casement_vm_config_get_language (config));
  else
    language = dup_host_language ();
  if (!casement_unattend_check_language (language, error))
    return NULL;

  ui_language = options->media_language != NULL ? options->media_language : language;
  if (!casement_unattend_check_language (ui_language, error))
    return NULL;

  keyboard = casement_vm_config_get_keyboard (config);
  if (keyboard == NULL)
    keyboard = language;
  if (!check_input_locale (keyboard, error))
    return NULL;

  product_key = casement_vm_config_get_product_key (config);
  if (product_key != NULL && !check_product_key (product_key, error))
    return NULL;

  full_name = options->full_name != NULL && options->full_name[0] != '\0' ? options->full_name : user_name;
  if (!g_utf8_validate (full_name, -1, NULL) || has_control_chars (full_name) ||
      g_utf8_strlen (full_name, -1) > 256)
    {
      set_invalid (error, _("The full name must be one line of at most 256 characters"));
      return NULL;
    }

  time_zone = options->time_zone != NULL ? g_strdup (options->time_zone) : dup_host_time_zone ();
  windows_zone = casement_unattend_windows_time_zone (time_zone);

  g_string_append (out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
  g_string_append (out, "<!-- Made by Casement for an express install; Windows Setup reads it from the "
                        "root of any disc. -->\n");
  xml_open (&xml, "unattend xmlns=\"urn:schemas-microsoft-com:unattend\" "
                  "xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\"");

  /* windowsPE: Setup's language, the virtio drivers (without viostor it
   * sees no disk), the disk layout and which Windows to install. */
  xml_open (&xml, "settings pass=\"windowsPE\"");
  xml_international (&xml, "Microsoft-Windows-International-Core-WinPE", ui_language, language, keyboard);
  xml_driver_paths (&xml, os_id);
  xml_open_component (&xml, "Microsoft-Windows-Setup");
  windows_partition = xml_disk_configuration (&xml, options->recovery_partition);
  xml_image_and_user (&xml, config, options, full_name, windows_partition);
  /* TPM 2.0 and Secure Boot are real here (swtpm, OVMF with Microsoft
   * keys), so no LabConfig bypass keys. */
  xml_close (&xml, "component");
  xml_close (&xml, "settings");

  xml_open (&xml, "settings pass=\"specialize\"");
  xml_open_component (&xml, "Microsoft-Windows-Shell-Setup");
  xml_element (&xml, "ComputerName", computer_name);
  xml_element (&xml, "TimeZone", windows_zone);
  xml_close (&xml, "component");
  if (g_str_equal (os_id, "win11"))
    {
      /* Windows 11's OOBE may insist on a Microsoft account once the
       * virtio network works; this is the switch behind its "I don't
       * have internet" path, so the local account below always goes. */
      xml_open_component (&xml, "Microsoft-Windows-Deployment");
      xml_open (&xml, "RunSynchronous");
      xml_open (&xml, "RunSynchronousCommand wcm:action=\"add\"");
      xml_element (&xml, "Order", "1");
      xml_element (&xml, "Description", "Allow a local account without network");
      xml_element (&xml, "Path", "reg add HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\OOBE "
                                 "/v BypassNRO /t REG_DWORD /d 1 /f");
      xml_close (&xml, "RunSynchronousCommand");
      xml_close (&xml, "RunSynchronous");
      xml_close (&xml, "component");
    }
  xml_close (&xml, "settings");

  xml_open (&xml, "settings pass=\"oobeSystem\"");
  xml_international (&xml, "Microsoft-Windows-International-Core", ui_language, language, keyboard);
  xml_open_component (&xml, "Microsoft-Windows-Shell-Setup");
  xml_open (&xml, "OOBE");
  xml_element (&xml, "HideEULAPage", "true");
  xml_element (&xml, "HideLocalAccountScreen", "true");
  xml_element (&xml, "HideOEMRegistrationScreen", "true");
  xml_element (&xml, "HideOnlineAccountScreens", "true");
  xml_element (&xml, "HideWirelessSetupInOOBE", "true");
  xml_element (&xml, "ProtectYourPC", "3");
  xml_close (&xml, "OOBE");
  xml_open (&xml, "UserAccounts");
  xml_open (&xml, "LocalAccounts");
  xml_open (&xml, "LocalAccount wcm:action=\"add\"");
  xml_element (&xml, "Name", user_name);
  xml_element (&xml, "DisplayName", full_name);
  xml_element (&xml, "Group", "Administrators");
  xml_password (&xml, "Password", password);
  xml_close (&xml, "LocalAccount");
  xml_close (&xml, "LocalAccounts");
  xml_close (&xml, "UserAccounts");
  xml_open (&xml, "AutoLogon");
  xml_element (&xml, "Enabled", "true");
  xml_element (&xml, "LogonCount", "1");
  xml_element (&xml, "Username", user_name);
  xml_password (&xml, "Password", password);
  xml_close (&xml, "AutoLogon");
  xml_first_logon_commands (&xml, casement_vm_config_get_share_folder (config) != NULL
                                    ? casement_vm_config_get_share_method (config)
                                    : CASEMENT_SHARE_METHOD_NONE);
  xml_element (&xml, "TimeZone", windows_zone);
  xml_close (&xml, "component");
  xml_close (&xml, "settings");

  xml_close (&xml, "unattend");

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- The medium -------------------------------------------------------- */

typedef struct
{
  GBytes *xml;
  GFile  *winfsp_installer;
} WriteMedium;

static void
write_medium_free (WriteMedium *write)
{
  g_clear_pointer (&write->xml, g_bytes_unref);
  g_clear_object (&write->winfsp_installer);
  g_free (write);
}

/* The installer's own name ("winfsp-2.0.23075.msi") when the medium can
 * carry it and the first-logon command finds it by it; else one it does. */
static char *
dup_winfsp_medium_name (GFile *installer)
{
  g_autofree char *basename = g_file_get_basename (installer);
  gsize len = basename != NULL ? strlen (basename) : 0;
  gboolean usable = len >= strlen ("winfsp.msi") && len <= 30 &&
                    g_ascii_strncasecmp (basename, "winfsp", 6) == 0 &&
                    g_ascii_strcasecmp (basename + len - 4, ".msi") == 0;

  for (gsize i = 0; usable && i < len; i++)
    if (!g_ascii_isalnum (basename[i]) && strchr ("._-", basename[i]) == NULL)
      usable = FALSE;

  return usable ? g_steal_pointer (&basename) : g_strdup ("winfsp.msi");
}

static void
write_medium_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GFile *vm_dir = source_object;
  WriteMedium *write = task_data;
  g_autoptr(GFile) medium = g_file_get_child (vm_dir, CASEMENT_UNATTEND_MEDIUM_NAME);
  g_autoptr(GBytes) installer = NULL;
  g_autofree char *installer_name = NULL;
  CasementIsoEntry entries[2] = { { ANSWER_FILE_NAME, write->xml }, };
  guint n_entries = 1;
  GError *error = NULL;

  g_assert (G_IS_FILE (vm_dir));

  if (write->winfsp_installer != NULL)
    {
      if (!(installer = g_file_load_bytes (write->winfsp_installer, cancellable, NULL, &error)))
        {
          g_autofree char *shown = g_file_get_parse_name (write->winfsp_installer);

          g_task_return_new_error (task, error->domain, error->code,
                                   _("Cannot read the WinFsp installer “%s”: %s. Choose it again, "
                                     "or create the machine without it and install WinFsp in Windows"),
                                   shown, error->message);
          g_error_free (error);
          return;
        }

      installer_name = dup_winfsp_medium_name (write->winfsp_installer);
      entries[n_entries].name = installer_name;
      entries[n_entries].contents = installer;
      n_entries++;
    }

  if (casement_iso_write_files (medium, MEDIUM_LABEL, entries, n_entries, cancellable, &error))
    g_task_return_pointer (task, g_steal_pointer (&medium), g_object_unref);
  else
    g_task_return_error (task, error);
}

void
casement_unattend_write_medium_async (const char          *xml,
                                      GFile               *winfsp_installer,
                                      GFile               *vm_dir,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  WriteMedium *write;

  g_return_if_fail (xml != NULL);
  g_return_if_fail (!winfsp_installer || G_IS_FILE (winfsp_installer));
  g_return_if_fail (G_IS_FILE (vm_dir));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  write = g_new0 (WriteMedium, 1);
  write->xml = g_bytes_new (xml, strlen (xml));
  g_set_object (&write->winfsp_installer, winfsp_installer);

  /* The folder is the source object: the finish function checks it. */
  task = g_task_new (vm_dir, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_unattend_write_medium_async);
  g_task_set_task_data (task, write, (GDestroyNotify) write_medium_free);
  g_task_run_in_thread (task, write_medium_thread);
}

GFile *
casement_unattend_write_medium_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_unattend_write_medium_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
