// msesync console: small progressive enhancements; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Destructive buttons ask first (the form carries its question). Delegated: live parts
  // of a page are replaced, their forms with them.
  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  startLiveUpdates();
  bindFileInputs(document);
  bindAsyncForms(document);

  // Import Config opens as a dialog over Service Synchronization (the link is the fallback).
  document.querySelectorAll("[data-dialog]").forEach((opener) => {
    opener.addEventListener("click", (event) => {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (!dialog || typeof dialog.showModal !== "function") return;
      event.preventDefault();
      dialog.showModal();
    });
  });
  document.querySelectorAll("dialog [data-close]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
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

// A chosen file is shown in the YAML box, so it can be read (and edited) before the dry run.
function bindFileInputs(root) {
  root.querySelectorAll("input[type=file][data-fills]").forEach((input) => {
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
}

// Inside a dialog, a form's answer replaces the dialog's body instead of the page; an answer
// of 204 with X-Location (Apply succeeded) goes to that page.
function bindAsyncForms(root) {
  root.querySelectorAll("[data-async-root] form[data-async]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      if (event.submitter && event.submitter.name) {
        data.append(event.submitter.name, event.submitter.value);
      }
      // getAttribute: the submit buttons are named "action", which shadows form.action.
      const reply = await fetch(form.getAttribute("action"), {
        method: "POST",
        body: data,
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (reply.status === 204) {
        window.location.assign(reply.headers.get("X-Location") || "/");
        return;
      }
      const body = form.closest("[data-async-root]");
      body.innerHTML = await reply.text();
      bindFileInputs(body);
      bindAsyncForms(body.parentElement);
    });
  });
}

// Pages with [data-live] parts (task list, task page) re-read themselves: every few seconds
// the same URL is fetched and each part is swapped for its new version, so states and counts
// move without a reload. Not while the tab is hidden, a dialog is open or the user is using
// a part (focus inside it). A failed read is said, with the time of the last good one: a page
// that cannot update must not look current.
function startLiveUpdates() {
  const stamp = document.getElementById("live-stamp");
  if (!stamp || !document.querySelector("[data-live]")) return;
  const every = Number(stamp.dataset.every || 5) * 1000;
  let lastGood = new Date();
  const clock = (time) => time.toLocaleTimeString([], { hour12: false });
  const busy = () =>
    document.hidden ||
    document.querySelector("dialog[open]") ||
    document.activeElement?.closest("[data-live]");

  async function update() {
    if (busy()) return;
    try {
      const reply = await fetch(window.location.href, {
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
      });
      if (new URL(reply.url).pathname !== window.location.pathname) {
        throw new Error("logged out: reload the page");
      }
      if (!reply.ok) throw new Error(`the console answered ${reply.status}`);
      const page = new DOMParser().parseFromString(await reply.text(), "text/html");
      document.querySelectorAll("[data-live]").forEach((part) => {
        const fresh = page.getElementById(part.id);
        if (fresh) part.replaceWith(document.adoptNode(fresh));
      });
      lastGood = new Date();
      stamp.textContent = `updated ${clock(lastGood)} (every ${every / 1000} s)`;
      stamp.classList.remove("error");
      stamp.dataset.updated = lastGood.toISOString();
    } catch (error) {
      stamp.textContent = `not updated since ${clock(lastGood)}: ${error.message}`;
      stamp.classList.add("error");
    }
  }
  window.setInterval(update, every);
}
