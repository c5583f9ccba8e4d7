// The page's language, decided in the browser as ae/i18n.py decides it on the server: ?lang=en or ?lang=zh-CN in
// the address (the page's switch), else the first of the browser's languages that is English or Chinese, with
// Simplified Chinese (zh, zh-CN, zh-SG, zh-Hans) read as Chinese. Gradio reads navigator.language when it starts;
// ae/ui/language.py puts this ahead of it.
(function () {
  var asked = new URLSearchParams(location.search).get("lang");
  var chosen = asked === "en" || asked === "zh-CN" ? asked : null;
  var preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (var i = 0; !chosen && i < preferred.length; i++) {
    var tag = preferred[i] || "";
    if (/^zh(-(cn|sg|hans)(-.*)?)?$/i.test(tag)) chosen = "zh-CN";
    else if (/^(en|zh)/i.test(tag)) chosen = "en";
  }
  chosen = chosen || "en";
  Object.defineProperty(navigator, "language", { get: function () { return chosen; } });
  Object.defineProperty(navigator, "languages", { get: function () { return [chosen]; } });
  document.documentElement.lang = chosen;
})();
