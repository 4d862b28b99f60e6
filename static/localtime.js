/* statuspage: the page's times in the reader's own time zone.
 *
 * The server writes every time in the page's zone, as
 * <time datetime="2026-09-15T05:00:00+00:00" data-format="datetime">Sep 15, 05:00 UTC</time>.
 * This rewrites the text in the reader's zone and keeps the server's text as
 * the title. Without JavaScript (or Intl) the server's text stays.
 *
 * It also says when the page itself is old: a copy kept by a CDN or a static
 * export that stopped being refreshed must not pass for the current status.
 */
(function () {
  "use strict";
  var OPTIONS = {
    "datetime": { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" },
    "datetime-year": { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" },
    "time": { hour: "2-digit", minute: "2-digit" },
    "time-seconds": { hour: "2-digit", minute: "2-digit", second: "2-digit" }
  };
  var OLD_PAGE_MINUTES = 15;

  function format(date, kind) {
    var options = { hourCycle: "h23", timeZoneName: "short" };
    Object.keys(OPTIONS[kind]).forEach(function (key) { options[key] = OPTIONS[kind][key]; });
    var parts = {};
    new Intl.DateTimeFormat("en-US", options).formatToParts(date).forEach(function (part) {
      parts[part.type] = part.value;
    });
    // The server's shape: "Sep 15, 2026 05:00 UTC", "Sep 15, 05:00 UTC", "05:00:00 UTC".
    var day = parts.month ? parts.month + " " + parts.day + (parts.year ? ", " + parts.year : ",") + " " : "";
    var clock = parts.hour + ":" + parts.minute + (parts.second ? ":" + parts.second : "");
    return day + clock + " " + parts.timeZoneName;
  }

  function localize() {
    var times = document.querySelectorAll("time[datetime][data-format]");
    for (var i = 0; i < times.length; i++) {
      var element = times[i];
      var kind = element.getAttribute("data-format");
      var date = new Date(element.getAttribute("datetime"));
      if (!OPTIONS.hasOwnProperty(kind) || isNaN(date.getTime())) continue;
      if (!element.title) element.title = element.textContent;
      element.textContent = format(date, kind);
    }
  }

  function warnIfOld() {
    var generated = document.querySelector("time[data-generated]");
    var main = document.querySelector("main");
    if (!generated || !main) return;
    var minutes = Math.floor((Date.now() - new Date(generated.getAttribute("datetime"))) / 60000);
    if (!(minutes >= OLD_PAGE_MINUTES)) return;
    var banner = document.createElement("div");
    banner.className = "banner banner-blind banner-old";
    banner.setAttribute("role", "status");
    var strong = document.createElement("strong");
    strong.textContent = "This page is " + age(minutes) + " old.";
    banner.appendChild(strong);
    banner.appendChild(document.createTextNode(" The status shown may be out of date."));
    main.insertBefore(banner, main.firstChild);
  }

  function age(minutes) {
    if (minutes < 120) return minutes + " minutes";
    if (minutes < 48 * 60) return Math.floor(minutes / 60) + " hours";
    return Math.floor(minutes / 1440) + " days";
  }

  if (typeof Intl === "object" && Intl.DateTimeFormat && Intl.DateTimeFormat.prototype.formatToParts) {
    localize();
  }
  warnIfOld();
})();
