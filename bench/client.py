"""Shared by the bench drivers (stdlib only): GraphQL over HTTP, signing up, connecting
the sandbox eBay account through its consent page, downloading its orders, paging."""
import html, http.client, json, re, time, urllib.parse, urllib.request


class Client:
    def __init__(self, base):
        self.base, self.tok = base, None

    def raw(self, q, v=None):
        headers = {"content-type": "application/json", **({"authorization": "Bearer " + self.tok} if self.tok else {})}
        req = urllib.request.Request(self.base + "/graphql", data=json.dumps({"query": q, "variables": v or {}}).encode(),
                                     headers=headers)
        return json.load(urllib.request.urlopen(req, timeout=600))

    def gql(self, q, v=None):
        body = self.raw(q, v)
        if body.get("errors"):
            raise SystemExit(f"GraphQL error: {body['errors']}")
        return body["data"]

    def sign_up(self):
        self.tok = self.gql('mutation { signUp(input:{organizationName:"Bench", email:"bench@example.com", '
                            'password:"benchmark password 1"}) { accessToken } }')["signUp"]["accessToken"]

    def connect_ebay(self):
        """startAccountAuthorization → the fake's consent page → agree → completeAccountAuthorization
        with the state and code the callback hands over (as the SPA does)."""
        r = self.gql('mutation { startAccountAuthorization(input:{platform: EBAY, name:"bench"}) '
                     '{ account { id } authorizationUrl } }')["startAccountAuthorization"]
        url = r["authorizationUrl"]
        page = urllib.request.urlopen(url).read().decode()
        fields = dict((m.group(1), html.unescape(m.group(2))) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page))
        fields["decision"] = "agree"
        u = urllib.parse.urlparse(url)
        conn = http.client.HTTPConnection(u.netloc)
        conn.request("POST", u.path.replace("/oauth2/authorize", "/oauth2/consent"), urllib.parse.urlencode(fields),
                     {"content-type": "application/x-www-form-urlencoded"})
        q = urllib.parse.parse_qs(urllib.parse.urlparse(conn.getresponse().getheader("location")).query)
        done = self.gql('mutation($i: CompleteAccountAuthorizationInput!) { completeAccountAuthorization(input: $i) '
                        '{ account { status } userErrors { message } } }',
                        {"i": {"platform": "EBAY", "state": q["state"][0], "code": q["code"][0]}})
        if done["completeAccountAuthorization"]["userErrors"]:
            raise SystemExit(f"authorization failed: {done}")
        return r["account"]["id"]

    def download(self, account):
        """Runs one download job to its end: (seconds, job)."""
        job = self.gql('mutation($ids:[ID!]!) { downloadOrders(input:{accountIds:$ids}) { jobs { id } } }',
                       {"ids": [account]})["downloadOrders"]["jobs"][0]["id"]
        t0 = time.time()
        while True:
            j = self.gql('query($id:ID!){ node(id:$id){ ... on Job { status progress lastError } } }', {"id": job})["node"]
            if j["status"] in ("SUCCEEDED", "FAILED"):
                return time.time() - t0, j
            time.sleep(0.05)

    def all_nodes(self, field, selection, args=""):
        """Every node of a connection field, 100 per page."""
        out, after = [], None
        while True:
            q = f'query($a:String){{ {field}(first:100, after:$a{args}){{ edges {{ node {{ {selection} }} }} pageInfo {{ hasNextPage endCursor }} }} }}'
            p = self.gql(q, {"a": after})[field]
            out += [e["node"] for e in p["edges"]]
            if not p["pageInfo"]["hasNextPage"]:
                return out
            after = p["pageInfo"]["endCursor"]

    def prepare_orders(self, decl):
        """Connect + download + declare every SKU + a NETWORK channel set on every order: order ids."""
        self.download(self.connect_ebay())
        self.gql('mutation { syncSkusFromOrders { created } }')
        codes = [n["code"] for n in self.all_nodes("skus", "code")]
        self.gql('mutation($s:[SkuInput!]!) { bulkUpsertSkus(input:{skus:$s}) { created updated } }',
                 {"s": [{"code": c, **decl} for c in codes]})
        ch = self.gql('mutation { createChannel(input:{code:"BENCH", name:"Bench line", trackingRange:{prefix:"RR", '
                      'suffix:"CN", start:1, end:99999999}}) { channel { id } userErrors { message } } }')["createChannel"]["channel"]["id"]
        ids = [n["id"] for n in self.all_nodes("orders", "id")]
        for i in range(0, len(ids), 1000):
            self.gql('mutation($ids:[ID!]!, $c:ID!) { setOrderChannel(input:{orderIds:$ids, channelId:$c}) { results { status } } }',
                     {"ids": ids[i:i + 1000], "c": ch})
        return ids, len(codes)
