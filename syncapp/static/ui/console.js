// msesync console: small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Destructive buttons ask first (the form carries its question).
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // A chosen file is shown in the YAML box, so it can be read (and edited) before the dry run.
  document.querySelectorAll("input[type=file][data-fills]").forEach((input) => {
    input.addEventListener("change", () => {
      const file = input.files[0];
      const target = document.getElementById(input.dataset.fills);
      if (!file || !target) return;
      file.text().then((text) => {
        target.value = text;
        input.value = ""; // the box now holds the text: send it once, not twice
      });
    });
  });

  // Discovered services: filter rows by name, and tick every row still shown.
  document.querySelectorAll("input[data-filters]").forEach((box) => {
    const rows = document.querySelectorAll(`#${box.dataset.filters} tbody tr`);
    box.addEventListener("input", () => {
      const wanted = box.value.trim().toLowerCase();
      rows.forEach((row) => {
        row.hidden = wanted !== "" && !row.dataset.name.toLowerCase().includes(wanted);
      });
    });
  });
  document.querySelectorAll("input[data-checks-all]").forEach((toggle) => {
    toggle.addEventListener("change", () => {
      document
        .querySelectorAll(`#${toggle.dataset.checksAll} tbody tr:not([hidden]) input[type=checkbox]`)
        .forEach((box) => { box.checked = toggle.checked; });
    });
  });
});
