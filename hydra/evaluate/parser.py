"""gdb's C and C++ expression grammar (c-exp.y), as a precedence-climbing parser.

Nodes are tuples whose first item says what they are. A parenthesized type name is a cast
when its first word names a type and no variable in scope has that name (gdb's rule for
telling `(x)` from `(T)`); `is_type(name)` answers that.
"""

from __future__ import annotations


from hydra.evaluate.errors import EvalError
from hydra.evaluate.lexer import CHAR, DOLLAR, END, FLOAT, NAME, NUMBER, OPERATOR, STRING, Token, tokenize
from hydra.model.record import field, record

MAX_DEPTH = 200

# binary operators by precedence, loosest first (gdb: `@` between shifts and + -)
BINARY_LEVELS = [
    ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", ">", "<=", ">="), ("<<", ">>"), ("@",),
    ("+", "-"), ("*", "/", "%"),
]
ASSIGNMENTS = ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=")
TYPE_WORDS = {"int", "char", "short", "long", "signed", "unsigned", "float", "double", "void", "bool", "_Bool",
              "wchar_t", "char16_t", "char32_t", "char8_t"}
QUALIFIERS = {"const", "volatile", "restrict", "__restrict"}
TAGS = {"struct", "union", "enum", "class"}


@record
class TypeSpec:
    """A type as written: its base (`unsigned long`, `struct node`, a typedef's name) and the
    declarator around it, innermost first: "*", "&", "&&", "const", ("[]", n), ("()", params)."""

    base: str
    const: bool = False
    declarator: list = field(default_factory=list)


class Parser:
    def __init__(self, text: str, is_type=lambda name: False):
        self.tokens = tokenize(text)
        self.position = 0
        self.is_type = is_type
        self.depth = 0
        self.text = text

    # ------------------------------------------------------------ helpers

    @property
    def token(self) -> Token:
        return self.tokens[self.position]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.position + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tokens[self.position]
        if token.kind != END:
            self.position += 1
        return token

    def at(self, *operators: str) -> bool:
        return self.token.kind == OPERATOR and self.token.text in operators

    def expect(self, operator: str) -> None:
        if not self.at(operator):
            self.error()
        self.take()

    def error(self):
        rest = self.text[self.token.position:]
        raise EvalError(f"A syntax error in expression, near `{rest}'.")

    def deeper(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise EvalError("Expression nested too deeply.")

    # ------------------------------------------------------------ expressions

    def parse(self):
        if self.token.kind == END:
            raise EvalError("Argument required (expression to compute).")
        node = self.comma()
        if self.token.kind != END:
            self.error()
        return node

    def comma(self):
        node = self.assignment()
        while self.at(","):
            self.take()
            node = ("comma", node, self.assignment())
        return node

    def assignment(self):
        node = self.conditional()
        if self.at(*ASSIGNMENTS):
            raise EvalError("A snapshot is read-only: values cannot be assigned.")
        return node

    def conditional(self):
        node = self.binary(0)
        if self.at("?"):
            self.take()
            if_true = self.comma()
            self.expect(":")
            return ("cond", node, if_true, self.conditional())
        return node

    def binary(self, level: int):
        if level == len(BINARY_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while self.at(*BINARY_LEVELS[level]):
            operator = self.take().text
            node = ("at" if operator == "@" else "binary", operator, node, self.binary(level + 1))
        return node

    def unary(self):
        self.deeper()
        try:
            token = self.token
            if token.kind == OPERATOR and token.text in ("-", "+", "!", "~", "*", "&"):
                self.take()
                return ("unary", token.text, self.unary())
            if token.kind == OPERATOR and token.text in ("++", "--"):
                raise EvalError("A snapshot is read-only: values cannot be assigned.")
            if token.kind == NAME and token.text == "sizeof":
                self.take()
                if self.at("(") and self.starts_type(1):
                    self.take()
                    spec = self.type_spec()
                    self.expect(")")
                    return ("sizeof_type", spec)
                return ("sizeof", self.unary())
            if token.kind == NAME and token.text in ("alignof", "_Alignof") and self.peek().text == "(":
                self.take()
                self.take()
                spec = self.type_spec()
                self.expect(")")
                return ("alignof", spec)
            if self.at("(") and self.starts_type(1):
                self.take()
                spec = self.type_spec()
                self.expect(")")
                if self.at("{"):
                    raise EvalError("Compound literals are not supported.")
                return ("cast", spec, self.unary())
            return self.postfix()
        finally:
            self.depth -= 1

    def postfix(self):
        node = self.primary()
        while True:
            if self.at("["):
                self.take()
                index = self.comma()
                self.expect("]")
                node = ("index", node, index)
            elif self.at(".", "->"):
                arrow = self.take().text == "->"
                if self.token.kind != NAME:
                    self.error()
                node = ("member", node, self.take().text, arrow)
            elif self.at("("):
                self.take()
                arguments = []
                while not self.at(")"):
                    arguments.append(self.assignment())
                    if self.at(","):
                        self.take()
                    elif not self.at(")"):
                        self.error()
                self.take()
                node = ("call", node, arguments)
            elif self.at("++", "--"):
                raise EvalError("A snapshot is read-only: values cannot be assigned.")
            else:
                return node

    def primary(self):
        token = self.token
        if token.kind == NUMBER:
            self.take()
            return ("number", token.value[0], token.value[1])
        if token.kind == FLOAT:
            self.take()
            return ("float", token.value)
        if token.kind == CHAR:
            self.take()
            return ("char", token.value[0], token.value[1])
        if token.kind == STRING:
            text, prefix = token.value
            self.take()
            while self.token.kind == STRING:            # "a" "b" is "ab"
                text += self.take().value[0]
            return ("string", text, prefix)
        if token.kind == DOLLAR:
            self.take()
            return ("dollar", token.text)
        if token.kind == NAME:
            if token.text in ("true", "false"):
                self.take()
                return ("bool", token.text == "true")
            if token.text == "nullptr":
                self.take()
                return ("number", 0, "nullptr")
            return ("name", self.qualified_name())
        if self.at("::"):
            return ("name", self.qualified_name())
        if self.at("("):
            self.take()
            node = self.comma()
            self.expect(")")
            return node
        if self.at("{"):
            self.take()
            spec = self.type_spec()
            self.expect("}")
            return ("memory_cast", spec, self.unary())       # gdb's {type} addr
        self.error()

    def qualified_name(self) -> str:
        parts = []
        if self.at("::"):
            self.take()
        while True:
            if self.token.kind != NAME:
                self.error()
            parts.append(self.take().text)
            if self.at("<") and self.is_type("::".join(parts) + "<"):
                parts[-1] += self.template_arguments()
            if self.at("::") and self.peek().kind == NAME:
                self.take()
                continue
            return "::".join(parts)

    def template_arguments(self) -> str:
        depth = 0
        out = ""
        while True:
            token = self.take()
            if token.kind == END:
                self.error()
            out += token.text if token.kind != OPERATOR or token.text not in (",",) else ", "
            if token.text == "<":
                depth += 1
            elif token.text == ">":
                depth -= 1
                if depth == 0:
                    return out
            elif token.text == ">>":
                depth -= 2
                if depth <= 0:
                    return out

    # ------------------------------------------------------------ types

    def starts_type(self, offset: int = 0) -> bool:
        token = self.peek(offset)
        if token.kind != NAME:
            return self.tokens[self.position + offset].kind == OPERATOR and \
                self.tokens[self.position + offset].text == "::" and self._names_type(offset)
        if token.text in TYPE_WORDS or token.text in QUALIFIERS or token.text in TAGS:
            return True
        return self._names_type(offset)

    def _names_type(self, offset: int) -> bool:
        saved = self.position
        self.position += offset
        try:
            name = self.qualified_name()
        except EvalError:
            return False
        finally:
            self.position = saved
        return self.is_type(name)

    def type_spec(self) -> TypeSpec:
        const = False
        words = []
        while self.token.kind == NAME and self.token.text in QUALIFIERS:
            const = const or self.take().text == "const"
        token = self.token
        if token.kind == NAME and token.text in TAGS:
            tag = self.take().text
            base = f"{tag} {self.qualified_name()}"
        elif token.kind == NAME and token.text in TYPE_WORDS:
            while self.token.kind == NAME and (self.token.text in TYPE_WORDS or self.token.text in QUALIFIERS):
                word = self.take().text
                if word in QUALIFIERS:
                    const = const or word == "const"
                else:
                    words.append(word)
            base = " ".join(words)
        elif token.kind == NAME or self.at("::"):
            base = self.qualified_name()
        else:
            self.error()
        while self.token.kind == NAME and self.token.text in QUALIFIERS:
            const = const or self.take().text == "const"
        spec = TypeSpec(base, const)
        spec.declarator = self.abstract_declarator()
        return spec

    def abstract_declarator(self) -> list:
        """Pointers, references and qualifiers, then a parenthesized inner declarator and
        array or parameter suffixes; innermost first (as a C declarator reads)."""
        outer: list = []
        while True:
            if self.at("*"):
                self.take()
                outer.append("*")
            elif self.at("&", "&&"):
                outer.append(self.take().text)
            elif self.token.kind == NAME and self.token.text in QUALIFIERS:
                if self.take().text == "const":
                    outer.append("const")
            else:
                break
        inner: list = []
        if self.at("(") and self.peek().kind == OPERATOR and self.peek().text in ("*", "&", "&&"):
            self.take()
            inner = self.abstract_declarator()
            self.expect(")")
        suffixes: list = []
        while True:
            if self.at("["):
                self.take()
                length = None
                if self.token.kind == NUMBER:
                    length = self.take().value[0]
                self.expect("]")
                suffixes.append(("[]", length))
            elif self.at("("):
                self.take()
                parameters = []
                variadic = False
                while not self.at(")"):
                    if self.at("..."):
                        self.take()
                        variadic = True
                    else:
                        parameters.append(self.type_spec())
                    if self.at(","):
                        self.take()
                    elif not self.at(")"):
                        self.error()
                self.take()
                suffixes.append(("()", parameters, variadic))
            else:
                break
        # a C declarator applies suffixes before the pointers around it, the inner part last
        return outer + suffixes[::-1] + inner


def parse(text: str, is_type=lambda name: False):
    return Parser(text, is_type).parse()


def parse_type(text: str, is_type=lambda name: False) -> TypeSpec | None:
    """A whole text read as a type name (ptype's and whatis's first try), or None."""
    try:
        parser = Parser(text, is_type)
        if not parser.starts_type():
            return None
        spec = parser.type_spec()
        return spec if parser.token.kind == END else None
    except EvalError:
        return None
