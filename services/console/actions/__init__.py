"""The console's actions: forms that call the same command services the API routes
call, with the signed-in token's principal as the actor and ``If-Match`` from the
version the page showed (:mod:`services.console.actions.commands`)."""
