/* Gut Check: small progressive enhancements. Every page works the same without this script.
 *
 * 1. Questions with a data-visible-if condition are shown or hidden at once as answers change.
 *    The server decides again after each post; here a condition that cannot be evaluated leaves
 *    the question visible.
 * 2. Ticking an exclusive option (such as "None of these") unticks the others, and the reverse.
 * 3. An error summary takes the focus, so screen readers and keyboards start there.
 */
(function () {
  "use strict";

  // With the script, conditional questions appear as they apply: the no-script cues can go.
  if (typeof document !== "undefined") { document.documentElement.className += " js"; }

  var NUMBER = /^[0-9]{1,6}(\.[0-9]{1,6})?$/;

  function Unknown() {}

  function inputsFor(form, id) {
    return form.querySelectorAll('[name="' + id + '"]');
  }

  function isHidden(form, id) {
    var wrapper = form.querySelector('[data-question="' + id + '"]');
    return !!(wrapper && wrapper.hidden);
  }

  function knownAnswers(form) {
    var raw = form.getAttribute("data-known");
    if (!raw) { return {}; }
    try { return JSON.parse(raw) || {}; } catch (e) { return {}; }
  }

  /* Read an answer from the form as the server would parse it: a hidden question is unanswered. */
  function formValue(form, known, id) {
    var inputs = inputsFor(form, id);
    var value = null;
    if (!inputs.length) {
      value = Object.prototype.hasOwnProperty.call(known, id) ? known[id] : null;
    } else if (isHidden(form, id)) {
      value = null;
    } else if (inputs[0].type === "checkbox") {
      value = [];
      for (var i = 0; i < inputs.length; i++) {
        if (inputs[i].checked) { value.push(inputs[i].value); }
      }
    } else if (inputs[0].type === "radio") {
      for (var j = 0; j < inputs.length; j++) {
        if (inputs[j].checked) { value = inputs[j].value; }
      }
    } else {
      value = inputs[0].value.trim() || null;
    }
    return value;
  }

  /* Give a raw value the type its question has: a list, a strictly read number, or text. */
  function normalise(kind, value) {
    if (value === undefined) { value = null; }
    if (kind === "list") {
      if (value === null) { return []; }
      return Array.isArray(value) ? value : [value];
    }
    if (kind === "number" && value !== null && typeof value !== "number") {
      return NUMBER.test(String(value)) ? parseFloat(value) : null;
    }
    return value;
  }

  function same(a, b) {
    if (a === null || b === null) { return a === b; }
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.length === b.length && a.every(function (x, i) { return same(x, b[i]); });
    }
    if (typeof a !== typeof b) { return false; }
    return a === b;
  }

  function truthy(v) {
    if (Array.isArray(v)) { return v.length > 0; }
    return !!v;
  }

  function compare(op, a, b) {
    if (a === null && b === null) { return op === "le" || op === "ge"; }
    if (typeof a !== "number" || typeof b !== "number") { throw new Unknown(); }
    if (op === "lt") { return a < b; }
    if (op === "le") { return a <= b; }
    if (op === "gt") { return a > b; }
    return a >= b;
  }

  /* Evaluate a condition node; read(ref) returns the answer a reference names. */
  function evaluate(node, read) {
    if (node === null || typeof node !== "object") { throw new Unknown(); }
    if ("and" in node) { return node.and.every(function (c) { return truthy(evaluate(c, read)); }); }
    if ("or" in node) { return node.or.some(function (c) { return truthy(evaluate(c, read)); }); }
    if ("not" in node) { return !truthy(evaluate(node.not, read)); }
    if ("eq" in node) { return same(evaluate(node.eq[0], read), evaluate(node.eq[1], read)); }
    if ("ne" in node) { return !same(evaluate(node.ne[0], read), evaluate(node.ne[1], read)); }
    var ops = ["lt", "le", "gt", "ge"];
    for (var i = 0; i < ops.length; i++) {
      if (ops[i] in node) {
        var pair = node[ops[i]];
        return compare(ops[i], evaluate(pair[0], read), evaluate(pair[1], read));
      }
    }
    if ("in" in node) {
      var member = evaluate(node["in"][0], read);
      var container = evaluate(node["in"][1], read);
      if (Array.isArray(container)) { return container.some(function (x) { return same(x, member); }); }
      if (typeof container === "string" && typeof member === "string") { return container.indexOf(member) !== -1; }
      throw new Unknown();
    }
    if ("empty" in node) {
      var list = evaluate(node.empty, read);
      if (!Array.isArray(list)) { throw new Unknown(); }
      return list.length === 0;
    }
    if ("answer" in node) {
      var value = normalise(node.kind, read(node));
      if (value === null && "default" in node) { return node["default"]; }
      return value;
    }
    if ("value" in node) { return node.value; }
    throw new Unknown();
  }

  /* Say whether a condition holds; one that cannot be evaluated counts as true (show the question). */
  function holds(condition, read) {
    try {
      return truthy(evaluate(condition, read));
    } catch (e) {
      return true;
    }
  }

  function updateVisibility(form) {
    var known = knownAnswers(form);
    var read = function (ref) { return formValue(form, known, ref.answer); };
    // Document order is question order, so a question that depends on a now-hidden one is
    // worked out after it, as on the server.
    var items = form.querySelectorAll("[data-visible-if]");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var condition = null;
      try { condition = JSON.parse(item.getAttribute("data-visible-if")); } catch (e) { condition = null; }
      item.hidden = condition !== null && !holds(condition, read);
    }
  }

  function handleExclusive(input) {
    if (input.type !== "checkbox" || !input.checked) { return; }
    var group = input.form ? input.form.querySelectorAll('input[type="checkbox"][name="' + input.name + '"]') : [];
    var exclusive = input.getAttribute("data-exclusive") === "true";
    for (var i = 0; i < group.length; i++) {
      var other = group[i];
      if (other === input) { continue; }
      if (exclusive || other.getAttribute("data-exclusive") === "true") { other.checked = false; }
    }
  }

  function init() {
    var forms = document.querySelectorAll("form.section-form");
    for (var i = 0; i < forms.length; i++) {
      (function (form) {
        if (form.querySelector("[data-visible-if]")) {
          updateVisibility(form);
          form.addEventListener("input", function () { updateVisibility(form); });
        }
        form.addEventListener("change", function (event) {
          handleExclusive(event.target);
          if (form.querySelector("[data-visible-if]")) { updateVisibility(form); }
        });
      })(forms[i]);
    }
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
      // An error link focuses its input and brings the whole question (label or legend) into view.
      summary.addEventListener("click", function (event) {
        var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
        var input = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
        var question = input && input.closest ? input.closest(".question") : null;
        if (!question) { return; }
        event.preventDefault();
        question.scrollIntoView();
        input.focus({ preventScroll: true });
      });
    }
  }

  if (typeof document !== "undefined") {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", init);
    } else {
      init();
    }
  }
  // Let the test suite evaluate conditions in Node against the server's own evaluation.
  if (typeof module === "object" && module.exports) {
    module.exports = { holds: holds, evaluate: evaluate, normalise: normalise };
  }
})();
