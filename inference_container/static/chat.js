// Chat page for the OpenAI-compatible inference server. No framework, no external resources.
"use strict";

const KEY_STORAGE = "inference.apiKey";
const $ = (id) => document.getElementById(id);

const state = {
  history: [],        // [{role, content}] of completed turns, sent with every request
  controller: null,   // AbortController of the request in flight
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

function buildRequest() {
  const messages = [];
  const system = $("system-prompt").value.trim();
  if (system) messages.push({ role: "system", content: system });
  messages.push(...state.history);
  return {
    model: $("model").value || undefined,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    temperature: Number($("temperature").value),
    top_p: Number($("top-p").value),
    max_tokens: Number($("max-tokens").value) || undefined,
  };
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

async function streamReply(item) {
  const content = item.querySelector(".content");
  const started = performance.now();
  let usage = null;
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(buildRequest()),
    signal: state.controller.signal,
  });
  if (!response.ok) throw new Error(await errorFromResponse(response));
  for await (const chunk of readEvents(response.body)) {
    if (chunk.error) throw new Error(describeError(0, chunk));
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
  const seconds = (performance.now() - started) / 1000;
  if (usage) {
    const rate = usage.completion_tokens / Math.max(seconds, 1e-3);
    $("stats").textContent = `${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens`
      + ` in ${seconds.toFixed(2)} s (${rate.toFixed(1)} tokens/s)`;
  }
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
