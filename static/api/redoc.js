"use strict";
// Starts ReDoc on /api/redoc/ (templates/api/redoc.html).
(() => {
  // ReDoc's menu always shows Redocly's logo from their CDN (no option turns it off). The
  // page fetches nothing from elsewhere, so the image gets no address: it fails at once,
  // and ReDoc then leaves it out by itself, without a request or a policy violation.
  // React sets the address as an attribute and then as a property: both are caught.
  const REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && name === "src" && String(value) === REDOCLY_LOGO) {
      value = "";
    }
    return setAttribute.call(this, name, value);
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    ...src,
    set(value) {
      src.set.call(this, String(value) === REDOCLY_LOGO ? "" : value);
    },
  });

  const container = document.getElementById("redoc-container");
  const settings = container.dataset.settings ? JSON.parse(container.dataset.settings) : {};
  // The policy admits only the <style> elements that carry this script's nonce: ReDoc is
  // given it to put on the ones it writes.
  Redoc.init(
    container.dataset.schemaUrl,
    { ...settings, nonce: document.currentScript.nonce },
    container,
  );
})();
