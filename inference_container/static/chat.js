// Chat page for the OpenAI-compatible inference server. No framework, no external resources.
"use strict";

const KEY_STORAGE = "inference.apiKey";
const $ = (id) => document.getElementById(id);

const state = {
  history: [],        // [{role, content}] of completed turns, sent with every request
  controller: null,   // AbortController of the request(s) in flight
  models: [],         // /v1/models' data: [{id, parent, root}]
};

function authHeaders() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// Turn an OpenAI-shaped error body ({"error": {message, type, code}}) or anything else into one line.
function describeError(status, body) {
  const err = body && typeof body === "object" ? (body.error ?? body) : null;
  if (err && typeof err === "object" && err.message) {
    const kind = [err.type, err.code].filter((x) => x !== undefined && x !== null && x !== "").join(", ");
    const hint = status === 401 ? "\nCheck the API key field." : "";
    return `Error${status ? ` ${status}` : ""}${kind ? ` (${kind})` : ""}: ${err.message}${hint}`;
  }
  if (typeof body === "string" && body) return `Error ${status}: ${body.slice(0, 500)}`;
  return `Error ${status}: the server returned no details.`;
}

async function errorFromResponse(response) {
  const text = await response.text();
  try { return describeError(response.status, JSON.parse(text)); }
  catch { return describeError(response.status, text); }
}

async function loadModels() {
  const select = $("model");
  const previous = select.value;
  $("model-status").textContent = "Loading models…";
  try {
    const response = await fetch("/v1/models", { headers: authHeaders() });
    if (!response.ok) throw new Error(await errorFromResponse(response));
    const body = await response.json();
    state.models = body.data;
    select.replaceChildren(...body.data.map((m) => new Option(m.parent ? `${m.id} (fine-tuned)` : m.id, m.id)));
    // Default to the fine-tuned adapter (listed with a parent), keep the user's earlier choice if still there.
    const adapter = body.data.find((m) => m.parent);
    if (body.data.some((m) => m.id === previous)) select.value = previous;
    else if (adapter) select.value = adapter.id;
    $("model-status").textContent = `${body.data.length} model${body.data.length === 1 ? "" : "s"}`;
    showError("");
  } catch (error) {
    select.replaceChildren(new Option("(unavailable)", ""));
    $("model-status").textContent = "";
    showError(`Could not list models. ${error.message}`);
  }
}

function addMessage(role, content) {
  const item = document.createElement("li");
  item.className = `msg ${role}`;
  item.dataset.role = role;
  const label = document.createElement("span");
  label.className = "role";
  label.textContent = role === "user" ? "You" : "Assistant";
  const body = document.createElement("div");
  body.className = "content";
  body.textContent = content;
  item.append(label, body);
  $("transcript").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

function addNote(item, text) {
  const note = document.createElement("span");
  note.className = "note";
  note.textContent = text;
  item.append(note);
}

function setBusy(busy) {
  $("composer").dataset.state = busy ? "streaming" : "idle";
  // Screen readers wait for aria-busy to clear, then read the finished reply once, not token by token.
  $("transcript").setAttribute("aria-busy", String(busy));
  $("send").disabled = busy;
  $("stop").disabled = !busy;
  $("clear").disabled = busy;
}

// One chat request for `model` with the page's settings; `turns` after the system prompt.
function buildRequest(model, turns) {
  const messages = [];
  const system = $("system-prompt").value.trim();
  if (system) messages.push({ role: "system", content: system });
  messages.push(...turns);
  const seed = $("seed").value.trim();
  return {
    model: model || undefined,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    temperature: Number($("temperature").value),
    top_p: Number($("top-p").value),
    max_tokens: Number($("max-tokens").value) || undefined,
    seed: seed === "" ? undefined : Number(seed),
  };
}

// The fine-tuned model (the one chosen if it has a parent, else the first that has one) and the base model.
function comparePair() {
  const chosen = state.models.find((m) => m.id === $("model").value);
  const tuned = chosen?.parent ? chosen : state.models.find((m) => m.parent);
  const base = state.models.find((m) => !m.parent);
  return tuned && base ? [tuned.id, base.id] : null;
}

// Yield the JSON payload of each `data:` event of a server-sent-events body, until `[DONE]`.
async function* readEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
    const events = buffer.split(/\r?\n\r?\n/);
    buffer = done ? "" : events.pop();
    for (const event of events) {
      const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, "")).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
    if (done) return;
  }
}

// Stream one request's reply into `content`; `onVersion` hears the weights that answer (header, then chunks).
async function streamInto(content, request, onVersion) {
  const started = performance.now();
  let usage = null;
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(request),
    signal: state.controller.signal,
  });
  if (!response.ok) throw new Error(await errorFromResponse(response));
  const header = response.headers.get("x-adapter-version");
  if (header) onVersion(header);
  for await (const chunk of readEvents(response.body)) {
    if (chunk.error) throw new Error(describeError(0, chunk));
    if (chunk.system_fingerprint) onVersion(chunk.system_fingerprint.replace(/^adapter-/, ""));
    const choice = chunk.choices?.[0];
    if (choice?.delta?.content) {
      const transcript = $("transcript");
      // Follow the reply as it grows, unless the reader has scrolled up to read something earlier.
      const following = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 80;
      content.textContent += choice.delta.content;
      if (following) transcript.scrollTop = transcript.scrollHeight;
    }
    if (choice?.finish_reason === "error") {
      throw new Error("Error: the server failed while generating this reply; its log has the details.");
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return { usage, seconds: (performance.now() - started) / 1000 };
}

function describeUsage(usage, seconds) {
  const rate = usage.completion_tokens / Math.max(seconds, 1e-3);
  return `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens`
    + ` in ${seconds.toFixed(2)} s (${rate.toFixed(1)} tokens/s)`;
}

async function streamReply(item) {
  const request = buildRequest($("model").value, state.history);
  const { usage, seconds } = await streamInto(item.querySelector(".content"), request, () => {});
  if (usage) $("stats").textContent = describeUsage(usage, seconds);
}

let paneCount = 0;

// A transcript entry with one labelled pane per model, side by side.
function addComparison(models) {
  const item = document.createElement("li");
  item.className = "msg compare";
  item.dataset.role = "compare";
  const panes = document.createElement("div");
  panes.className = "compare-panes";
  const made = models.map((model) => {
    const pane = document.createElement("section");
    pane.className = "pane streaming";
    pane.dataset.model = model;
    const title = document.createElement("h3");
    paneCount += 1;
    title.id = `pane-title-${paneCount}`;
    pane.setAttribute("aria-labelledby", title.id);
    const setLabel = (version) => {
      pane.dataset.version = version ?? "";
      title.textContent = version ? `${model} · version ${version}` : model;
    };
    setLabel(null);
    const content = document.createElement("div");
    content.className = "content";
    pane.append(title, content);
    panes.append(pane);
    return { pane, content, setLabel };
  });
  item.append(panes);
  $("transcript").append(item);
  item.scrollIntoView({ block: "end" });
  return made;
}

// One prompt to the fine-tuned and the base model at once, same settings; neither reply joins the history.
async function sendComparison(prompt, pair) {
  addMessage("user", prompt);
  const panes = addComparison(pair);
  const runs = panes.map(async ({ pane, content, setLabel }, i) => {
    try {
      const { usage, seconds } = await streamInto(content, buildRequest(pair[i], [{ role: "user", content: prompt }]),
        setLabel);
      if (usage) addNote(pane, describeUsage(usage, seconds));
      if (!content.textContent) addNote(pane, "The model returned an empty reply.");
    } catch (error) {
      if (error.name === "AbortError") addNote(pane, "Stopped.");
      else addNote(pane, `${pair[i]}: ${error.message}`);
      if (error.name !== "AbortError") throw error;
    } finally {
      pane.classList.remove("streaming");
    }
  });
  const failed = (await Promise.allSettled(runs)).find((r) => r.status === "rejected");
  if (failed) showError(failed.reason.message.startsWith("Error") ? failed.reason.message
    : `Request failed: ${failed.reason.message}`);
}

async function send(event) {
  event.preventDefault();
  const prompt = $("prompt").value;
  if (!prompt.trim() || state.controller) return;
  if (!$("model").value) {
    showError("No model to send to: the model list did not load. Check the API key, then try again.");
    loadModels();
    return;
  }
  showError("");
  $("stats").textContent = "";
  if ($("compare").checked) {
    const pair = comparePair();
    if (!pair) {
      showError("Compare needs a fine-tuned model and its base in the model list.");
      return;
    }
    $("prompt").value = "";
    state.controller = new AbortController();
    setBusy(true);
    try {
      await sendComparison(prompt, pair);
    } finally {
      state.controller = null;
      setBusy(false);
      $("prompt").focus();
    }
    return;
  }
  state.history.push({ role: "user", content: prompt });
  addMessage("user", prompt);
  $("prompt").value = "";
  const userItem = $("transcript").lastElementChild;
  const item = addMessage("assistant", "");
  item.classList.add("streaming");
  state.controller = new AbortController();
  setBusy(true);
  let failed = false;
  try {
    await streamReply(item);
  } catch (error) {
    failed = true;
    if (error.name === "AbortError") addNote(item, "Stopped.");
    else showError(error.message.startsWith("Error") ? error.message : `Request failed: ${error.message}`);
  } finally {
    const text = item.querySelector(".content").textContent;
    item.classList.remove("streaming");
    if (text) {
      state.history.push({ role: "assistant", content: text });
    } else if (failed) {
      // Nothing came back: take the turn out of the history and give the message back for a retry.
      state.history.pop();
      userItem.remove();
      item.remove();
      $("prompt").value = prompt;
    } else {
      addNote(item, "The model returned an empty reply.");
      state.history.push({ role: "assistant", content: "" });
    }
    state.controller = null;
    setBusy(false);
    $("prompt").focus();
  }
}

function clearChat() {
  state.history = [];
  $("transcript").replaceChildren();
  $("stats").textContent = "";
  showError("");
  $("prompt").focus();
}

function bindRange(id) {
  const input = $(id);
  const show = () => { $(`${id}-value`).textContent = input.value; };
  input.addEventListener("input", show);
  show();
}

function init() {
  const key = $("api-key");
  key.value = sessionStorage.getItem(KEY_STORAGE) ?? "";
  key.addEventListener("change", () => {
    const value = key.value.trim();
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
    loadModels();
  });
  // On a narrow screen the conversation comes first and the settings start folded.
  if (window.matchMedia("(max-width: 760px)").matches) $("settings").open = false;
  bindRange("temperature");
  bindRange("top-p");
  $("composer").addEventListener("submit", send);
  $("stop").addEventListener("click", () => state.controller?.abort());
  $("clear").addEventListener("click", clearChat);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  loadModels();
}

document.addEventListener("DOMContentLoaded", init);
