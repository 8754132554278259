"""The JSON API's contract, without Flask: typed models and the OpenAPI document made from them."""
