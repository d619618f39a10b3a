// Finds the citations (source keys, calibration ids, CHIPS.md sections) in the repository's
// YAML, Markdown and C++ files, for test_sources.cpp. Only prose is searched: YAML values
// such as `architectures: [LlamaForCausalLM]` are data, Markdown code is syntax and C++
// outside comments (and `code` inside them) is code, so a bracket there is never a citation.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstring>
#include <regex>
#include <string>
#include <vector>

namespace llmsim_test {

// The file kinds whose prose is searched; each keeps its own notion of "prose".
enum class TextKind { Markdown, Yaml, Cpp };

// Line-to-line state: Markdown fenced code, YAML block scalars (`notes: >`).
struct ScanState {
  bool in_fence = false;
  int block_parent_indent = -1;  // indent of the `key: >` line while inside its block
};

// A key as written between brackets: a letter, then letters, digits and . / _ + - and
// inner spaces (CHIPS.md has "[NV-DGXB200 via wiki]").
inline bool key_shaped(const std::string& s) {
  static const std::regex re(R"([A-Za-z][A-Za-z0-9./_+-]*( [A-Za-z0-9./_+-]+)*)");
  return std::regex_match(s, re);
}

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// True when the text before a bracket ends in a confidence tag or another key: CHIPS.md
// writes "✱ [wiaix]" and "[GC-flashcards] [hexus]", the only way to tell a lowercase,
// hyphen-free key from an ordinary bracketed word.
inline bool after_tag(const std::string& before) {
  std::string t = before;
  while (!t.empty() && (t.back() == ' ' || t.back() == '(')) t.pop_back();
  return ends_with(t, "\u2714") || ends_with(t, "\u25D0") || ends_with(t, "\u2731") ||
         ends_with(t, "]");
}

// The source keys cited in one piece of prose. A key needs a hyphen or a capital letter
// ([NV-H100-WP], [ScalingBook]) or a tag before it; words like [calibration] or [i] are
// not keys. Links ([text](url), [text][ref]), link definitions and indexing (a[i]) are not.
inline std::vector<std::string> keys_in(const std::string& text) {
  std::vector<std::string> keys;
  for (size_t i = text.find('['); i != std::string::npos; i = text.find('[', i + 1)) {
    const size_t j = text.find(']', i + 1);
    if (j == std::string::npos) break;
    const std::string tok = text.substr(i + 1, j - i - 1);
    const char prev = i > 0 ? text[i - 1] : ' ';
    const char next = j + 1 < text.size() ? text[j + 1] : ' ';
    const bool line_start = text.find_first_not_of(" \t") == i;
    if (std::isalnum(static_cast<unsigned char>(prev)) || prev == '_' || prev == ']') continue;
    if (next == '(' || next == '[' || (line_start && next == ':')) continue;
    if (!key_shaped(tok)) continue;
    const bool hyphen = tok.find('-') != std::string::npos;
    const bool capital = std::any_of(tok.begin(), tok.end(), [](char c) {
      return std::isupper(static_cast<unsigned char>(c)) != 0;
    });
    if (hyphen || capital || after_tag(text.substr(0, i))) keys.push_back(tok);
  }
  return keys;
}

// Calibration ids (C1, C43) cited in one piece of prose, as numbers.
inline std::vector<int> calibration_ids_in(const std::string& text) {
  static const std::regex re(R"(\bC([0-9]{1,3})\b)");
  std::vector<int> ids;
  for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
    ids.push_back(std::stoi((*it)[1]));
  return ids;
}

// CHIPS.md sections cited in one piece of prose, normalised to the ids docs/sources.md
// uses: "§4" (also "section 4"), "S5", "E2", "Part C". Lists and ranges after one mention
// count too: "CHIPS.md sections 1-11, S1-S11" gives §1 §11 S1 S11.
inline std::vector<std::string> chips_sections_in(const std::string& text) {
  static const std::regex mention(R"(CHIPS\.md\s+(?:§\s*|sections?\s+)?)");
  static const std::regex id(R"(^(?:§\s*)?(Part [A-D]|[SE][0-9]+|[0-9]+)\b)");
  static const std::regex sep(R"(^\s*(?:-|,|and)\s*)");
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), mention), end; it != end; ++it) {
    std::string rest = it->suffix().str();
    std::smatch m;
    while (std::regex_search(rest, m, id)) {
      const std::string s = m[1];
      out.push_back(std::isdigit(static_cast<unsigned char>(s[0])) ? "§" + s : s);
      rest = m.suffix().str();
      std::smatch g;
      if (!std::regex_search(rest, g, sep)) break;
      rest = g.suffix().str();
    }
  }
  return out;
}

inline int indent_of(const std::string& line) {
  const size_t n = line.find_first_not_of(' ');
  return n == std::string::npos ? -1 : static_cast<int>(n);
}

// The prose of one YAML line: a comment, quoted strings, or a block scalar's text.
inline std::vector<std::string> yaml_prose(const std::string& line, ScanState& st) {
  const int ind = indent_of(line);
  if (st.block_parent_indent >= 0) {
    if (ind < 0 || ind > st.block_parent_indent) return {line};
    st.block_parent_indent = -1;
  }
  std::vector<std::string> parts;
  std::string value;
  char quote = 0;
  size_t k = 0;
  for (; k < line.size(); ++k) {
    const char c = line[k];
    if (quote) {
      if (c == quote) { quote = 0; parts.push_back(value); value.clear(); }
      else value += c;
    } else if ((c == '"' || c == '\'') && (k == 0 || std::strchr(" \t[{,:-", line[k - 1]))) {
      quote = c;  // a quote opens a scalar only where one may start: "review's" is plain text
    } else if (c == '#' && (k == 0 || line[k - 1] == ' ' || line[k - 1] == '\t')) {
      parts.push_back(line.substr(k));
      break;
    }
  }
  static const std::regex block(R"(:\s*[>|][-+0-9]*\s*$)");
  const std::string code = line.substr(0, k);
  if (std::regex_search(code, block)) st.block_parent_indent = ind;
  return parts;
}

// The prose of one Markdown line: everything outside fenced blocks and `code spans`.
inline std::vector<std::string> markdown_prose(const std::string& line, ScanState& st) {
  const size_t first = line.find_first_not_of(" \t");
  if (first != std::string::npos && line.compare(first, 3, "```") == 0) {
    st.in_fence = !st.in_fence;
    return {};
  }
  if (st.in_fence) return {};
  static const std::regex span("`[^`]*`");
  return {std::regex_replace(line, span, " ")};
}

// The prose of one C++ line: its // comment, less `code spans` (comments quote code too).
inline std::vector<std::string> cpp_prose(const std::string& line) {
  const size_t c = line.find("//");
  if (c == std::string::npos) return {};
  static const std::regex span("`[^`]*`");
  return {std::regex_replace(line.substr(c), span, " ")};
}

inline std::vector<std::string> prose_of(const std::string& line, TextKind kind, ScanState& st) {
  switch (kind) {
    case TextKind::Markdown: return markdown_prose(line, st);
    case TextKind::Yaml: return yaml_prose(line, st);
    case TextKind::Cpp: return cpp_prose(line);
  }
  return {};
}

}  // namespace llmsim_test
