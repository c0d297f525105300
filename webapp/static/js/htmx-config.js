// htmx without eval or inline styles, and no health data kept in localStorage (SECURITY.md).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  htmx.config.selfRequestsOnly = true;
  htmx.config.allowEval = false;
  htmx.config.allowScriptTags = false;
  htmx.config.includeIndicatorStyles = false;
  htmx.config.historyCacheSize = 0;
  htmx.config.refreshOnHistoryMiss = true;
});
