// The Work.Orleans dashboard: the jobs and silos, one job's executions and charts, live over server-sent events.
// Data is shown with textContent only: job names, args and errors never become markup.
"use strict";

const api = document.querySelector('meta[name="work-api"]').content;
let live = null;
let me = null;

const $ = (id) => document.getElementById(id);

// The session is a cookie the server sets when a key or token is presented once; the page keeps no secret.
async function call(method, path, body, headers) {
  const all = Object.assign({}, headers || {});
  if (body !== undefined) all["Content-Type"] = "application/json";
  const response = await fetch(api + path, { method, headers: all, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) { signedOut("Sign in: the session ended, or the key or token was not accepted."); throw new Error("unauthorized"); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && (data.detail || data.title)) || response.statusText);
  return data;
}

function show(section) {
  for (const id of ["sign-in", "overview", "job"]) $(id).hidden = id !== section;
}

function signedOut(message) {
  me = null;
  stopLive();
  $("who").textContent = "";
  $("sign-out").hidden = true;
  $("orleans-link").hidden = true;
  $("sign-in-error").textContent = message || "";
  show("sign-in");
}

function signedIn(caller) {
  me = caller;
  $("who").textContent = me.name + " (" + me.role + ")";
  $("sign-out").hidden = false;
  fetch("/orleans/", { method: "HEAD", credentials: "same-origin" }).then((r) => { $("orleans-link").hidden = !r.ok; }).catch(() => {});
}

async function signIn(credential) {
  // A JWT has three dot-separated parts; anything else is an API key.
  const header = credential.split(".").length === 3 ? { Authorization: "Bearer " + credential } : { "X-Api-Key": credential };
  try {
    signedIn(await call("POST", "/session", undefined, header));
    return true;
  } catch (error) {
    if (error.message !== "unauthorized") signedOut("Could not sign in: " + error.message);
    else $("sign-in-error").textContent = "The key or token was not accepted.";
    return false;
  }
}

function stopLive() {
  if (live) live.abort();
  live = null;
}

// Reads a server-sent event stream with fetch (EventSource cannot send credentials), reconnecting after a pause.
function listen(path, onSnapshot) {
  stopLive();
  const controller = new AbortController();
  live = controller;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(api + path, { credentials: "same-origin", signal: controller.signal });
        if (response.status === 401) { signedOut("Sign in: the session ended."); return; }
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        $("connection").textContent = "Live";
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let kind = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event: ")) kind = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (kind === "snapshot") onSnapshot(JSON.parse(data));
            else if (kind === "error") $("connection").textContent = "The cluster did not answer: " + JSON.parse(data).detail;
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        $("connection").textContent = "Reconnecting: " + error.message;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  })();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function when(value) {
  return value ? new Date(value).toLocaleString() : "";
}

function stateOf(job) {
  if (job.problem) return "problem: " + job.problem;
  if (!job.definition) return "not defined";
  return job.started ? "started" : "stopped";
}

function renderOverview(snapshot) {
  const body = $("jobs").querySelector("tbody");
  body.replaceChildren();
  for (const job of snapshot.jobs.jobs) {
    const row = document.createElement("tr");
    row.dataset.job = job.name;
    const link = document.createElement("a");
    link.href = "#/jobs/" + encodeURIComponent(job.name);
    link.textContent = job.name;
    cell(row, "").appendChild(link);
    cell(row, stateOf(job));
    cell(row, job.runningWorkers + " / " + (job.definition ? job.definition.maxWorkers : 0));
    cell(row, job.pending);
    cell(row, when((job.nextDueTimes || [])[0]));
    cell(row, job.succeeded);
    cell(row, job.finished - job.succeeded);
    cell(row, job.lost);
    body.appendChild(row);
  }
  $("jobs-empty").hidden = snapshot.jobs.jobs.length > 0;
  const silos = $("silos");
  silos.replaceChildren();
  for (const silo of snapshot.silos) {
    const item = document.createElement("li");
    item.textContent = silo.address + " — " + silo.status;
    silos.appendChild(item);
  }
}

// Bars over the last 5 minutes in 10 s bins; the value of a bin is made by reduce from the executions in it.
function chart(svg, executions, now, value) {
  const bins = 30, width = 300, height = 80, span = 10000;
  const values = new Array(bins).fill(0);
  const members = Array.from({ length: bins }, () => []);
  for (const e of executions) {
    const age = now - new Date(e.finishedAt).getTime();
    const bin = bins - 1 - Math.floor(age / span);
    if (bin >= 0 && bin < bins) members[bin].push(e);
  }
  members.forEach((m, i) => { values[i] = value(m); });
  const max = Math.max(1, ...values);
  svg.replaceChildren();
  values.forEach((v, i) => {
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const h = Math.round((v / max) * (height - 4));
    rect.setAttribute("x", String(i * (width / bins) + 1));
    rect.setAttribute("width", String(width / bins - 2));
    rect.setAttribute("y", String(height - h));
    rect.setAttribute("height", String(h));
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = String(Math.round(v));
    rect.appendChild(title);
    svg.appendChild(rect);
  });
  svg.dataset.total = String(values.reduce((a, b) => a + b, 0));
}

function renderJob(detail) {
  const job = detail.job;
  $("job-name").textContent = job.name;
  $("job-state").textContent = stateOf(job) + (job.silo ? " — on " + job.silo : "");
  const facts = $("job-facts");
  facts.replaceChildren();
  const fact = (name, value) => {
    const dt = document.createElement("dt"); dt.textContent = name;
    const dd = document.createElement("dd"); dd.textContent = String(value); dd.dataset.fact = name;
    facts.append(dt, dd);
  };
  fact("Handler", job.definition ? job.definition.job.handler : "");
  fact("Running", job.runningWorkers + " / " + (job.definition ? job.definition.maxWorkers : 0) + " (allowed " + job.allowedWorkers + ")");
  fact("Pending", job.pending);
  fact("Next due", when((job.nextDueTimes || [])[0]));
  fact("Succeeded", job.succeeded);
  fact("Failed", job.finished - job.succeeded);
  fact("Lost", job.lost);
  fact("Skipped ticks", job.skippedTicks);

  const now = Date.now();
  chart($("throughput"), detail.recent, now, (m) => m.length);
  chart($("lateness"), detail.recent, now, (m) => Math.max(0, ...m.map((e) => new Date(e.startedAt) - new Date(e.scheduledAt))));

  const pending = $("pending").querySelector("tbody");
  pending.replaceChildren();
  for (const e of detail.pending) {
    const row = document.createElement("tr");
    cell(row, e.executionId); cell(row, e.phase); cell(row, e.attempt); cell(row, when(e.dueAt)); cell(row, e.executor || "");
    pending.appendChild(row);
  }

  const recent = $("recent").querySelector("tbody");
  recent.replaceChildren();
  for (const e of detail.recent.slice(0, 50)) {
    const row = document.createElement("tr");
    row.dataset.execution = e.executionId;
    cell(row, e.executionId);
    cell(row, e.status, e.status === "success" ? "status-success" : "status-failed");
    cell(row, Math.max(0, new Date(e.finishedAt) - new Date(e.startedAt)) + " ms");
    cell(row, e.attempt);
    cell(row, e.worker);
    cell(row, when(e.finishedAt));
    cell(row, e.error || "", "error-text");
    recent.appendChild(row);
  }
}

async function act(name, action) {
  const message = $("job-message");
  const path = "/jobs/" + encodeURIComponent(name);
  try {
    if (action === "delete") {
      if (!confirm("Delete job " + name + " with its schedule, pending executions and history?")) return;
      await call("DELETE", path);
      location.hash = "#/";
      return;
    }
    const result = action === "perform" ? await call("POST", path + "/perform", {})
      : action === "cancel" ? await call("POST", path + "/cancel")
      : await call("POST", path + "/" + action);
    message.className = "";
    message.textContent = action === "perform" ? "Accepted " + result.executionId
      : action === "cancel" ? "Cancelled " + result.cancelled
      : action === "start" ? "Started" : "Stopped";
  } catch (error) {
    if (error.message === "unauthorized") return;
    message.className = "error";
    message.textContent = error.message;
  }
}

async function route() {
  if (!me) {
    try {
      signedIn(await call("GET", "/me"));
    } catch (error) {
      if (error.message !== "unauthorized") signedOut("The server did not answer: " + error.message);
      return;
    }
  }
  const match = location.hash.match(/^#\/jobs\/(.+)$/);
  if (match) {
    const name = decodeURIComponent(match[1]);
    $("job-message").textContent = "";
    $("job-actions").hidden = me.role !== "operator";
    $("job-actions").dataset.job = name;
    show("job");
    listen("/jobs/" + encodeURIComponent(name) + "/stream", renderJob);
  } else {
    show("overview");
    listen("/stream", renderOverview);
  }
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  if (await signIn($("credential").value.trim())) { $("credential").value = ""; route(); }
});
$("sign-out").addEventListener("click", async () => {
  await fetch(api + "/session", { method: "DELETE", credentials: "same-origin" });
  signedOut();
});
$("job-actions").addEventListener("click", (event) => {
  const action = event.target.dataset && event.target.dataset.action;
  if (action) act($("job-actions").dataset.job, action);
});
window.addEventListener("hashchange", route);
route();
