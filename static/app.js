// Copy buttons: <button data-copy="#selector">. No inline scripts (the CSP forbids them).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(source));
  } else {
    selectText(source);
    button.textContent = "Selected: press Ctrl+C";
  }
});

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

// HTMX answers that are errors (an expired form, a server error) are not swapped by htmx: put the
// sentence from the target's data-error-message into the target instead of failing silently.
document.addEventListener("htmx:responseError", (event) => {
  const detail = event.detail || {};
  const candidates = [detail.target, detail.requestConfig && detail.requestConfig.target, detail.elt];
  const target = candidates.find((node) => node && node.dataset && node.dataset.errorMessage);
  if (!target) return;
  const message = document.createElement("p");
  message.id = "connection-message";
  message.className = "connection-message result-bad";
  message.textContent = target.dataset.errorMessage;
  target.replaceChildren(message);
});

// Printing (Save as PDF): open every "How this was calculated" so the document has the evidence.
window.addEventListener("beforeprint", () => {
  document.querySelectorAll("#findings details, #commitments details").forEach((node) => { node.open = true; });
});
