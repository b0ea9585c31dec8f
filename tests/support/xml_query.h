// Reading the SVG and HTML that pciesim writes with a real parser (libxml2), so that tests
// check well-formedness and structure rather than substrings.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

namespace pciesim::test {

class XmlDocument {
public:
  // Parses XML (strictly: any error leaves ok() false) or, with html = true, HTML.
  explicit XmlDocument(const std::string &text, bool html = false) {
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    doc_ =
        html ? htmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, "utf-8",
                              options | HTML_PARSE_NOIMPLIED)
             : xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, "utf-8", options);
  }
  ~XmlDocument() { xmlFreeDoc(doc_); }
  XmlDocument(const XmlDocument &) = delete;
  XmlDocument &operator=(const XmlDocument &) = delete;

  bool ok() const { return doc_ != nullptr; }

  // The nodes an XPath expression selects; the prefix `svg:` names the SVG namespace.
  std::vector<xmlNodePtr> select(const std::string &xpath) const {
    std::vector<xmlNodePtr> nodes;
    if (!doc_)
      return nodes;
    xmlXPathContextPtr context = xmlXPathNewContext(doc_);
    xmlXPathRegisterNs(context, BAD_CAST "svg", BAD_CAST "http://www.w3.org/2000/svg");
    xmlXPathObjectPtr result = xmlXPathEvalExpression(BAD_CAST xpath.c_str(), context);
    if (result && result->nodesetval)
      for (int i = 0; i < result->nodesetval->nodeNr; ++i)
        nodes.push_back(result->nodesetval->nodeTab[i]);
    xmlXPathFreeObject(result);
    xmlXPathFreeContext(context);
    return nodes;
  }

  static std::string attribute(xmlNodePtr node, const char *name) {
    xmlChar *value = xmlGetProp(node, BAD_CAST name);
    std::string s = value ? reinterpret_cast<const char *>(value) : "";
    xmlFree(value);
    return s;
  }

  static std::string content(xmlNodePtr node) {
    xmlChar *value = xmlNodeGetContent(node);
    std::string s = value ? reinterpret_cast<const char *>(value) : "";
    xmlFree(value);
    return s;
  }

private:
  xmlDocPtr doc_ = nullptr;
};

} // namespace pciesim::test
