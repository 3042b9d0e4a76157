"""A third-party QIX client (PyPI `qe-api-client`, synchronous, one request at a time, every id 0)
drives the real demo engine binary: lists docs, opens an app, reads tables and keys, builds a
hypercube, selects values and sees the filtered numbers. Raw-socket checks cover bad input."""
import json

import pytest
from qe_api_client.engine import QixEngine
from websocket import create_connection

from demo_engine import DemoEngineProcess


@pytest.fixture(scope="module")
def engine(qlik_mcp_bin):
    process = DemoEngineProcess(qlik_mcp_bin)
    yield process
    assert process.stop() == 0, "demo engine did not exit cleanly on SIGTERM"


def to_number(text):
    return float(text.replace(",", ""))


def test_qe_api_client_end_to_end(engine):
    qixe = QixEngine(url=engine.url("/app/"))
    docs = qixe.ega.get_doc_list()
    assert {d["qDocName"] for d in docs} == {"sales-analytics", "hr-insights"}

    opened = qixe.ega.open_doc("sales-analytics")
    app_handle = qixe.get_handle(opened)
    assert isinstance(app_handle, int)

    fields = qixe.get_app_fields(app_handle)
    sources = {row["qName"]: set(row["qSrcTables"]) for _, row in fields.iterrows()}
    assert sources["CustomerID"] == {"OrderLines", "Customers"}
    assert sources["Region"] == {"Regions"}
    # qe-api-client has no wrapper for GetTablesAndKeys: send it over the client's own socket.
    raw = qixe.conn.send_call(qixe.conn, json.dumps({
        "jsonrpc": "2.0", "id": 0, "handle": app_handle, "method": "GetTablesAndKeys",
        "params": [{"qcx": 0, "qcy": 0}, {"qcx": 0, "qcy": 0}, 0, False, False]}))
    tables = json.loads(raw)["result"]
    keys = {tuple(sorted(k["qTables"])) for k in tables["qk"]}
    assert ("Customers", "OrderLines") in keys
    names = {t["qName"] for t in tables["qtr"]}
    assert names == {"OrderLines", "Customers", "Products", "Regions", "Calendar"}
    order_lines = next(t for t in tables["qtr"] if t["qName"] == "OrderLines")
    assert order_lines["qNoOfRows"] == 120000

    before = qixe.get_constructed_table_data(app_handle, list_of_dimensions=["Region"], list_of_measures=["Sum(Sales)"])
    assert set(before["Region"]) == {"Americas", "Europe", "Asia Pacific", "Middle East & Africa"}
    europe_sales = to_number(before.loc[before["Region"] == "Europe", "Sum(Sales)"].iloc[0])
    total = qixe.eaa.expr_eval(app_handle, "Sum(Sales)")["qValue"]["qNumber"]
    assert abs(sum(to_number(v) for v in before["Sum(Sales)"]) - total) < 0.05

    qixe.select_in_field(app_handle, "Region", ["Europe"])
    after = qixe.get_constructed_table_data(app_handle, list_of_dimensions=["Region"], list_of_measures=["Sum(Sales)"])
    assert list(after["Region"]) == ["Europe"]
    assert abs(to_number(after["Sum(Sales)"].iloc[0]) - europe_sales) < 0.01
    filtered_total = qixe.eaa.expr_eval(app_handle, "Sum(Sales)")["qValue"]["qNumber"]
    assert abs(filtered_total - europe_sales) < 0.01

    by_category = qixe.get_constructed_table_data(
        app_handle, list_of_dimensions=["Category"], list_of_measures=["Sum(Quantity)", "Count(DISTINCT OrderID)"])
    assert len(by_category) == 4
    qixe.disconnect()


def test_bad_input_on_the_wire(engine):
    ws = create_connection(engine.url("/app/sales-analytics"))
    hello = json.loads(ws.recv())
    assert hello["method"] == "OnConnected"

    def call(payload):
        ws.send(payload if isinstance(payload, str) else json.dumps(payload))
        return json.loads(ws.recv())

    assert call("{not json")["error"]["code"] == -32700
    # The socket stays usable after a parse error.
    assert call({"jsonrpc": "2.0", "id": 1, "handle": -1, "method": "EngineVersion", "params": []})["result"]
    assert call({"jsonrpc": "2.0", "id": 2, "handle": -1, "method": "Nope", "params": []})["error"]["code"] == -32601
    missing = call({"jsonrpc": "2.0", "id": 3, "handle": -1, "method": "OpenDoc", "params": {}})["error"]
    assert missing["code"] == -32602 and missing["parameter"] == "qDocName"
    wrong_type = call({"jsonrpc": "2.0", "id": 4, "handle": -1, "method": "OpenDoc", "params": [42]})["error"]
    assert wrong_type["parameter"] == "qDocName"
    assert call({"jsonrpc": "2.0", "id": 5, "handle": 77, "method": "GetLayout", "params": []})["error"]["parameter"] == "handle"
    assert call({"jsonrpc": "2.0", "id": 6, "method": "EngineVersion"})["error"]["parameter"] == "handle"
    assert call([1, 2, 3])["error"]["code"] == -32600
    huge = json.dumps({"jsonrpc": "2.0", "id": 7, "handle": -1, "method": "EngineVersion", "params": ["x" * (5 << 20)]})
    assert call(huge)["error"]["code"] == -32600
    # Still alive, and answers in order.
    for i in range(20):
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 100 + i, "handle": -1, "method": "EngineVersion", "params": []}))
    assert [json.loads(ws.recv())["id"] for _ in range(20)] == list(range(100, 120))
    ws.close()


def test_unknown_path_is_not_upgraded(engine):
    with pytest.raises(Exception):
        create_connection(engine.url("/nope"))


def send_raw(port, payload):
    """Sends bytes that are not HTTP and returns what comes back before the server closes."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        return received


TLS_CLIENT_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40)


@pytest.mark.parametrize("payload", [TLS_CLIENT_HELLO, b"GARBAGE\r\n\r\n", b"\x00\xff\x00\xff"])
def test_non_http_bytes_get_400_and_close(engine, payload):
    # A client that tries wss:// first (ktern-qlik-sense-mcp does) must be refused at once, not
    # left waiting for its handshake timeout; recv() returning b"" proves the server closed.
    reply = send_raw(engine.port, payload)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply
    assert b"Connection: close" in reply


def test_mcp_server_answers_non_http_bytes_with_400(qlik_mcp_bin):
    from mcp_server import Server
    with Server(qlik_mcp_bin) as server:
        reply = send_raw(server.port, TLS_CLIENT_HELLO)
        assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), reply
