"""The one exception a rule raises when input breaks it."""


class RuleViolation(Exception):
    """Input that a rule refuses; `message` is for the user (lazily translated).

    `field` names the form field at fault, when there is one, so a page can show the
    message beside it and the API can return it under `fields`.
    """

    def __init__(self, message, field=None, code="invalid"):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code
