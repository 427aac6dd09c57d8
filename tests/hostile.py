"""A corpus of hostile strings, as a customer's account could hold them in names and tags.

Each one tries to break out of one of the places a report puts text: HTML (tags, attributes,
event handlers, URLs), Markdown (links, images, tables, code fences), spreadsheets (formulas,
including after leading spaces and non-breaking spaces), email headers (line breaks), and the
reader's eye (right-to-left overrides, very long strings). Every one must come back as text.

The markers ``PWNED`` in the script payloads are what a test looks for: if a browser ran any of
them, ``window.__pwned`` is set or a dialog opens.
"""

from __future__ import annotations

PAYLOADS: tuple[str, ...] = (
    # HTML: tags and event handlers
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=\"window.__pwned=1\">",
    "<svg onload=\"window.__pwned=1\">",
    "<iframe src=\"javascript:window.__pwned=1\"></iframe>",
    "<body onload=alert('PWNED')>",
    "\"><script>alert('PWNED')</script>",
    "'><img src=x onerror=alert('PWNED')>",
    "</td></tr></table><script>alert('PWNED')</script>",
    "</textarea><script>alert('PWNED')</script>",
    "</title><script>alert('PWNED')</script>",
    "<a href=\"javascript:alert('PWNED')\">click</a>",
    "<details open ontoggle=alert('PWNED')>",
    "<input autofocus onfocus=alert('PWNED')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('PWNED')>",
    "<!--<script>alert('PWNED')</script>-->",
    "<style>body{display:none}</style>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
    "<base href=\"https://evil.example/\">",
    "<form action=\"https://evil.example\"><button>Confirm</button></form>",
    "&lt;script&gt;alert('PWNED')&lt;/script&gt;",
    "&#60;script&#62;alert('PWNED')&#60;/script&#62;",
    "javascript:alert('PWNED')",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgnUFdORUQnKTwvc2NyaXB0Pg==",
    "{{ 7*7 }} {% raw %}{{ config }}{% endraw %}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "' onmouseover='alert(\"PWNED\")' x='",
    # Markdown
    "[click](javascript:alert('PWNED'))",
    "![tracker](https://evil.example/pixel.png)",
    "[ref]: https://evil.example\n[ref]",
    "**bold** _it_ `code` ~~gone~~",
    "| injected | table |\n|---|---|",
    "```\nrm -rf /\n```",
    "# Heading injection",
    "> quoted\n- list item",
    "<https://evil.example>",
    "\\*escaped\\*",
    # Spreadsheets (CSV injection)
    "=HYPERLINK(\"https://evil.example\",\"click\")",
    "=cmd|' /C calc'!A0",
    "+SUM(1,1)",
    "-2+3",
    "@SUM(1,1)",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    "\u00a0=HYPERLINK(\"https://evil.example\")",
    "\u3000=1+1",
    "\uff1d1+1",
    # Email headers and line breaks
    "name\r\nBcc: victim@evil.example",
    "name\nSubject: you won",
    "line\u2028separator\u2029paragraph",
    # The reader's eye
    "\u202egnp.exe",
    "admin\u200b\u200c\u200dzero-width",
    "\u0430\u0440\u0440\u04cf\u0435-homoglyphs",
    "x" * 255,
    "\U0001f4a5 emoji \U0001f525 and \u0645\u0631\u062d\u0628\u0627 right-to-left",
    # Shells (remediation commands quote every value)
    "$(touch /tmp/pwned) `touch /tmp/pwned`; touch /tmp/pwned",
    "'; DROP TABLE findings; --",
)

assert len(PAYLOADS) >= 50
