// tracemark's web UI: uploads with a progress bar, job progress, the waveform and the
// verify button. Plain JavaScript, no build step; every change carries the session's
// CSRF token in the X-CSRF-Token header.
"use strict";

function csrf() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : "";
}

function say(form, text, isError) {
  const s = form.querySelector(".status");
  if (s) {
    s.textContent = text;
    s.classList.toggle("error", !!isError);
  }
}

function errorText(xhrText, status) {
  try {
    const j = JSON.parse(xhrText);
    if (j && j.error && j.error.message) return j.error.message;
  } catch (_) { /* not JSON */ }
  return "the server answered " + status;
}

async function api(method, url, body) {
  const opts = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(url, opts);
  const text = await r.text();
  if (!r.ok) throw new Error(errorText(text, r.status));
  return text ? JSON.parse(text) : null;
}

function pollJob(job, form, bar, onDone) {
  const tick = async () => {
    let j;
    try {
      j = await api("GET", job.url);
    } catch (e) {
      say(form, "Could not read the job: " + e.message, true);
      return;
    }
    bar.hidden = false;
    bar.value = j.progress;
    if (j.status === "succeeded") {
      bar.value = 1;
      onDone(j);
    } else if (j.status === "failed") {
      say(form, "The job failed: " + (j.error ? j.error.message : "no reason given"), true);
    } else {
      say(form, "Job " + j.id + ": " + j.status + " (" + Math.round(j.progress * 100) + " %)");
      setTimeout(tick, 400);
    }
  };
  tick();
}

function upload(form) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const bar = form.querySelector("progress");
    const button = form.querySelector('button[type="submit"]');
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.upload);
    xhr.setRequestHeader("X-CSRF-Token", csrf());
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.hidden = false;
        bar.value = e.loaded / e.total;
        say(form, "Uploading: " + Math.round((100 * e.loaded) / e.total) + " %");
      }
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      if (xhr.status >= 400) {
        say(form, "Refused: " + errorText(xhr.responseText, xhr.status), true);
        return;
      }
      const answer = JSON.parse(xhr.responseText);
      if (form.dataset.then === "recording") {
        window.location.assign("/recordings/" + answer.id);
      } else {
        bar.value = 0;
        say(form, "Uploaded; tracing…");
        pollJob(answer, form, bar, (j) => {
          window.location.assign("/traces/" + j.result.trace_id);
        });
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      say(form, "The upload failed: the connection was lost.", true);
    });
    button.disabled = true;
    say(form, "Uploading…");
    xhr.send(new FormData(form));
  });
  const drop = form.querySelector(".drop");
  if (drop) {
    const input = drop.querySelector('input[type="file"]');
    drop.addEventListener("dragover", (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      if (e.dataTransfer && e.dataTransfer.files.length) input.files = e.dataTransfer.files;
    });
  }
}

function issue(form) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const recipients = Array.from(form.querySelectorAll('input[name="recipients"]:checked')).map((i) => i.value);
    if (!recipients.length) {
      say(form, "Choose at least one recipient.", true);
      return;
    }
    const bar = form.querySelector("progress");
    const links = form.querySelector(".links");
    links.replaceChildren();
    let job;
    try {
      job = await api("POST", form.dataset.issue, { recipients, format: form.querySelector("select").value });
    } catch (e) {
      say(form, "Refused: " + e.message, true);
      return;
    }
    pollJob(job, form, bar, (j) => {
      say(form, "Issued " + j.result.copies.length + " copies.");
      for (const c of j.result.copies) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = c.url;
        a.textContent = "Download " + c.recipient + "'s copy";
        li.appendChild(a);
        links.appendChild(li);
      }
      listIssued(j.result);
    });
  });
}

// The page's table of issued copies, brought up to date without a reload.
function listIssued(result) {
  const table = document.getElementById("issuances");
  if (!table) return;
  const body = table.tBodies[0];
  const iso = new Date().toISOString().slice(0, 19) + "Z";
  for (const c of result.copies) {
    const row = body.insertRow();
    row.insertCell().textContent = c.recipient;
    row.insertCell().textContent = result.format;
    const time = document.createElement("time");
    time.dateTime = iso;
    time.textContent = iso.replace("T", " ").replace("Z", " UTC");
    row.insertCell().appendChild(time);
    const sha = row.insertCell();
    sha.className = "mono";
    sha.textContent = c.copy_sha256.slice(0, 16) + "…";
    const a = document.createElement("a");
    a.href = c.url;
    a.textContent = "Download";
    row.insertCell().appendChild(a);
  }
  const n = body.rows.length;
  table.caption.textContent = n + (n === 1 ? " issued copy" : " issued copies");
}

async function waveform(canvas) {
  let w;
  try {
    w = await api("GET", canvas.dataset.waveform + "?points=" + canvas.width);
  } catch (e) {
    canvas.replaceWith(document.createTextNode("Waveform unavailable: " + e.message));
    return;
  }
  const ctx = canvas.getContext("2d");
  const mid = canvas.height / 2;
  ctx.fillStyle = "#1f5f8b";
  w.peaks.forEach((p, i) => {
    const h = Math.max(1, p * mid);
    ctx.fillRect((i * canvas.width) / w.peaks.length, mid - h, Math.max(1, canvas.width / w.peaks.length), 2 * h);
  });
}

function verify(button) {
  button.addEventListener("click", async () => {
    const out = document.getElementById("verify-result");
    out.textContent = "Verifying…";
    try {
      const r = await api("POST", button.dataset.verify);
      out.classList.toggle("error", !r.ok);
      out.textContent = r.ok
        ? "Verified: " + r.entries + " entries, " + r.checkpoints + " signed checkpoints, " + r.records + " records match the log."
        : "LOG BROKEN: " + r.error;
    } catch (e) {
      out.classList.add("error");
      out.textContent = "Could not verify: " + e.message;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-upload]").forEach(upload);
  document.querySelectorAll("form[data-issue]").forEach(issue);
  document.querySelectorAll("canvas[data-waveform]").forEach(waveform);
  document.querySelectorAll("button[data-verify]").forEach(verify);
});
