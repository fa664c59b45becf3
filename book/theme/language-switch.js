// The language switch: a link in the menu bar to this same page in the other edition.
// The English edition is the site's root and the Chinese one lives under zh-CN/ (DESIGN.md,
// "Translations"), and both have the same pages with the same heading ids, so the link keeps the
// page's path and its #fragment. `path_to_root` is mdBook's: the way from this page to the root
// of its own edition.
(function () {
    "use strict";
    const zh = document.documentElement.lang === "zh-CN";
    const root = new URL(typeof path_to_root === "string" && path_to_root ? path_to_root : "./", location.href);
    // The page's path inside its edition; "" is the edition's index.
    const page = location.pathname.startsWith(root.pathname) ? location.pathname.slice(root.pathname.length) : "";
    const other = new URL((zh ? "../" : "zh-CN/") + page, root);
    other.hash = location.hash;

    const link = document.createElement("a");
    link.className = "language-switch";
    link.href = other.href;
    link.hreflang = zh ? "en" : "zh-CN";
    link.lang = zh ? "en" : "zh-CN";
    link.textContent = zh ? "English" : "中文";
    link.title = zh ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("aria-label", link.title);
    // The fragment changes as the reader follows links inside the page: keep the link in step.
    window.addEventListener("hashchange", () => {
        other.hash = location.hash;
        link.href = other.href;
    });

    const buttons = document.querySelector(".menu-bar .right-buttons");
    if (buttons) {
        buttons.prepend(link);
    }
})();
